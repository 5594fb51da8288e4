import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';

cloudEvent('markowitz', cloudEventHandler(markowitzModel));
