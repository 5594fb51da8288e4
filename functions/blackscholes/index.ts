import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';

cloudEvent('blackscholes', cloudEventHandler(blackscholesModel));
