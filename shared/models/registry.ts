import type { ModelDefinition, ModelName } from '../job/model.js';
import { blackscholesModel } from './blackscholesJob.js';
import { ingestModel } from './ingestJob.js';
import { markowitzModel } from './markowitzJob.js';
import { montecarloModel } from './montecarloJob.js';

/** Every function's model, for the command line and the demo (each deployed function bundles only its own). */
export const MODELS: Record<ModelName, ModelDefinition<never>> = {
  blackscholes: blackscholesModel as ModelDefinition<never>,
  montecarlo: montecarloModel as ModelDefinition<never>,
  markowitz: markowitzModel as ModelDefinition<never>,
  ingest: ingestModel as ModelDefinition<never>,
};

export const FUNCTION_NAMES = Object.keys(MODELS) as ModelName[];
