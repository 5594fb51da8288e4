import type { ModelDefinition } from './job/model.js';

/**
 * Every function's model, for the command line and the demo, each loaded only when asked
 * for (a Monte Carlo run does not load the vendors' clients). Each deployed function
 * bundles only its own (`functions/<name>/index.ts`). Adding a model is one line here (see
 * the README's "Adding a model").
 */
export const MODEL_LOADERS = {
  blackscholes: async () => (await import('./models/blackscholes/job.js')).blackscholesModel as ModelDefinition<never>,
  montecarlo: async () => (await import('./models/montecarlo/job.js')).montecarloModel as ModelDefinition<never>,
  markowitz: async () => (await import('./models/markowitz/job.js')).markowitzModel as ModelDefinition<never>,
  ingest: async () => (await import('./ingest/job.js')).ingestModel as ModelDefinition<never>,
} satisfies Record<string, () => Promise<ModelDefinition<never>>>;

/** The functions, by name (the first column of the job contract's table). */
export type FunctionName = keyof typeof MODEL_LOADERS;

export const FUNCTION_NAMES = Object.keys(MODEL_LOADERS) as FunctionName[];

/** Narrows a string (a command-line argument) to a function's name. */
export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(MODEL_LOADERS, name);
}
