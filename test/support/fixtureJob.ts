import { readFileSync } from 'node:fs';
import { loadConfig } from '../../shared/config.js';
import { parseJob } from '../../shared/job/envelope.js';
import type { ModelContext, ModelDefinition, ModelOutput } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { FixturePriceSource } from '../../shared/prices/fixturePriceSource.js';

const prices = new FixturePriceSource(new URL('../../fixtures/prices.csv', import.meta.url).pathname);

/** Runs a job (or a job file of the repo (fixtures/jobs/, fixtures/charts/) through a model's `run`, on the fixture prices. */
export async function runFixtureJob<P>(model: ModelDefinition<P>, file: string | object, env: Record<string, string> = {}): Promise<ModelOutput> {
  const document = typeof file === 'string' ? (JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as unknown) : file;
  const job = parseJob(document, model, '2026-01-01');
  const unavailable = () => Promise.reject(new Error('not used by this model'));
  const context: ModelContext = {
    history: (symbols) => prices.histories(symbols, job.start, job.end),
    log: createLogger('ERROR', () => {}),
    config: loadConfig({ MC_THREADS: '1', ...env }),
    warehouse: { insertRows: unavailable, upsertRows: unavailable, queryBySymbols: unavailable, mergeStaged: unavailable },
    secrets: { get: unavailable },
  };
  return model.run(job, context);
}
