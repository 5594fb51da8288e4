import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { montecarloModel } from '../../shared/models/montecarloJob.js';

cloudEvent('montecarlo', cloudEventHandler(montecarloModel));
