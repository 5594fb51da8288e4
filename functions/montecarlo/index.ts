import { cloudEvent } from '@google-cloud/functions-framework';
import { cloudEventHandler } from '../../shared/job/cloudEventHandler.js';
import { prewarmWorkers } from '../../shared/models/montecarlo/parallelRunner.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';

cloudEvent('montecarlo', cloudEventHandler(montecarloModel));
// Worker threads load while the instance starts, and stay for later jobs.
prewarmWorkers(Number(process.env.MC_THREADS) || undefined);
