import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { markowitzModel } from '../../shared/models/markowitzJob.js';

cloudEvent('markowitz', cloudEventHandler(markowitzModel));
