import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { ingestModel } from '../../shared/ingest/job.js';

cloudEvent('ingest', cloudEventHandler(ingestModel));
