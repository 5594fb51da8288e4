import type { ModelDefinition, ModelName } from '../job/model.js';

/**
 * Every function's model, for the command line and the demo, each loaded only when asked
 * for (a Monte Carlo run does not load the vendors' clients). Each deployed function
 * bundles only its own.
 */
export const MODEL_LOADERS: Record<ModelName, () => Promise<ModelDefinition<never>>> = {
  blackscholes: async () => (await import('./blackscholesJob.js')).blackscholesModel as ModelDefinition<never>,
  montecarlo: async () => (await import('./montecarloJob.js')).montecarloModel as ModelDefinition<never>,
  markowitz: async () => (await import('./markowitzJob.js')).markowitzModel as ModelDefinition<never>,
  ingest: async () => (await import('./ingestJob.js')).ingestModel as ModelDefinition<never>,
};

export const FUNCTION_NAMES = Object.keys(MODEL_LOADERS) as ModelName[];
