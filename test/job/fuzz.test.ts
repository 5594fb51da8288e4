/**
 * Property-based fuzz (fast-check) of the delivery path: malformed envelopes and every
 * model's params, within and outside their documented ranges, sent through the job
 * lifecycle with local storage. Invariants:
 * - nothing is thrown (a throw is a redelivery: only storage faults may do that, and there are none here);
 * - a failed job is never `internal`, and its message is a sentence naming a field or symbol;
 * - a completed job's result holds finite numbers only, except the contract's documented
 *   nulls (an implied volatility that has no solution, and the price and Greeks at it).
 * Seeds are fixed so a failure reproduces; fast-check prints the shrunk counterexample.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { runJobEvent, type JobServices } from '../../shared/job/lifecycle.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { createLogger } from '../../shared/log.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { montecarloModel } from '../../shared/models/montecarlo/job.js';
import { createServices } from '../../shared/runtime.js';

let services: JobServices;
beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  services = await createServices({ USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, MC_THREADS: '1' }, createLogger('ERROR'));
});

let sequence = 0;
/** Delivers `body` (a document, or raw base64 text) and returns the stored result document. */
async function deliver(model: ModelDefinition<never>, body: { document: unknown } | { raw: string }, attributes?: Record<string, string>): Promise<Record<string, unknown>> {
  const id = `fuzz-${++sequence}`;
  // A fresh job id per case (a used one would just answer with the earlier result).
  if ('document' in body && typeof body.document === 'object' && body.document !== null && /^[A-Za-z0-9_-]{1,100}$/.test(String((body.document as { job_id?: unknown }).job_id))) {
    body = { document: { ...body.document, job_id: `${(body.document as { job_id: string }).job_id}-${sequence}` } };
  }
  const data = 'raw' in body ? body.raw : Buffer.from(JSON.stringify(body.document) ?? 'null', 'utf8').toString('base64');
  const outcome = await runJobEvent(model, { id, data: { message: { data, messageId: id, publishTime: '2026-06-01T00:00:00Z', attributes } } }, services);
  const stored = await services.store.get(outcome.resultObject);
  return JSON.parse(stored!.body) as Record<string, unknown>;
}

function expectInvariants(document: Record<string, unknown>): void {
  if (document.status === 'failed') {
    const error = document.error as { code: string; message: string };
    expect(error.code, error.message).not.toBe('internal');
    expect(error.message.length).toBeGreaterThan(10);
    return;
  }
  expect(document.status).toBe('completed');
  const problems: string[] = [];
  checkFinite(document.result, 'result', problems);
  checkFinite(document.inputs, 'inputs', problems);
  expect(problems, JSON.stringify(document).slice(0, 2000)).toEqual([]);
}

const NULLABLE_WITH_IV_ERROR = new Set(['implied_volatility', 'price', 'delta', 'gamma', 'theta', 'vega', 'rho', 'volatility']);

function checkFinite(value: unknown, at: string, problems: string[], parent?: Record<string, unknown>, key?: string): void {
  if (value === null) {
    const ivError = parent !== undefined && key !== undefined && typeof parent.implied_volatility_error === 'string' && NULLABLE_WITH_IV_ERROR.has(key);
    // An option without a symbol says so (spot and volatility given).
    const documented = ivError || key === 'symbol';
    if (!documented) problems.push(`${at} is null (NaN or Infinity)`);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push(`${at} is ${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkFinite(v, `${at}[${i}]`, problems));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) checkFinite(v, `${at}.${k}`, problems, value as Record<string, unknown>, k);
  }
}

// Numbers as a fuzzer should pick them: extremes and boundaries as well as ordinary values.
const anyNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 5e-324, 1e-300, 1e308, -1e308, 1e9, 100, 1000, 0.5),
  fc.integer({ min: -1e6, max: 1e6 }),
);
const date = fc.oneof(
  fc.date({ min: new Date('2022-01-01'), max: new Date('2026-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('2024-13-01', '2024-01-32', '99999-01-01', '', '2024-1-1', '20240101', '2024-01-01T00:00:00Z', '0000-01-01', '2023-02-29', '2024-02-29'),
  fc.string({ maxLength: 12 }),
);
const symbols = fc.oneof(fc.subarray(['AAPL', 'MSFT', 'GOOGL'], { minLength: 1 }), fc.constant(['NOPE']), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }));
const jobId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.constantFrom('.', '..', '...', '', 'a/b', 'x'.repeat(129)), fc.string({ maxLength: 10 }));

/** An envelope around `params`, with every field sometimes missing, wrong-typed or odd. */
function envelope(params: fc.Arbitrary<unknown>, withSymbols: fc.Arbitrary<unknown> = symbols) {
  return fc.record(
    {
      job_id: jobId,
      symbols: fc.oneof(withSymbols, fc.constant('AAPL'), fc.constant(['AAPL', 'AAPL'])),
      start: date,
      end: date,
      params: fc.oneof({ weight: 8, arbitrary: params }, { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__": {"x": 1}}') as unknown) }, { weight: 1, arbitrary: fc.jsonValue() }),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
}

const blackscholesOption = fc.record(
  {
    option_type: fc.constantFrom('call', 'put'),
    spot: anyNumber,
    strike: anyNumber,
    time_to_expiry: anyNumber,
    risk_free_rate: anyNumber,
    dividend_yield: anyNumber,
    volatility: anyNumber,
    market_price: anyNumber,
  },
  { requiredKeys: [] },
);
const blackscholesParams = fc.oneof(blackscholesOption, fc.record({ strike: anyNumber, time_to_expiry: anyNumber, options: fc.array(blackscholesOption, { minLength: 1, maxLength: 4 }) }, { requiredKeys: ['options'] }));

const montecarloParams = fc.record(
  {
    simulations: fc.oneof(fc.integer({ min: 1, max: 400 }), anyNumber),
    time_steps: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(100_000, 25_200)),
    horizon_years: anyNumber,
    seed: fc.integer({ min: 0, max: 1000 }),
    initial_price: anyNumber,
    drift: anyNumber,
    volatility: anyNumber,
    weights: fc.oneof(fc.array(anyNumber, { maxLength: 3 }), fc.constant([1e308, -1e308, 1]), fc.constant([0.5, 0.3, 0.2])),
    confidence_levels: fc.array(anyNumber, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: [] },
);

const markowitzParamsArb = fc.record(
  {
    covariance: fc.constantFrom('ledoit_wolf', 'sample', 'other'),
    long_only: fc.boolean(),
    risk_free_rate: anyNumber,
    frontier_points: fc.oneof(fc.integer({ min: 2, max: 30 }), anyNumber),
    periods_per_year: anyNumber,
  },
  { requiredKeys: [] },
);

const runs = { numRuns: 250, seed: 20261201 } as const;
const model = (m: unknown) => m as ModelDefinition<never>;

describe('fuzz: no delivery is internal, thrown, or a completed result with NaN/Infinity', () => {
  it('malformed messages: bytes, JSON values, envelopes', async () => {
    const body = fc.oneof(
      fc.string().map((s) => ({ raw: s })),
      fc.uint8Array({ maxLength: 40 }).map((b) => ({ raw: Buffer.from(b).toString('base64') })),
      fc.jsonValue().map((document) => ({ document })),
      envelope(fc.jsonValue()).map((document) => ({ document })),
    );
    await fc.assert(fc.asyncProperty(body, async (b) => expectInvariants(await deliver(model(blackscholesModel), b))), { ...runs, numRuns: 400 });
  });

  it('blackscholes params', async () => {
    const body = fc.oneof(envelope(blackscholesParams), fc.record({ job_id: jobId, params: blackscholesParams }));
    await fc.assert(fc.asyncProperty(body, async (document) => expectInvariants(await deliver(model(blackscholesModel), { document }))), runs);
  });

  it('montecarlo params', async () => {
    const body = fc.oneof(envelope(montecarloParams), fc.record({ job_id: fc.stringMatching(/^[a-z0-9]{1,12}$/), params: montecarloParams }));
    await fc.assert(fc.asyncProperty(body, async (document) => expectInvariants(await deliver(model(montecarloModel), { document }))), runs);
  });

  it('markowitz params', async () => {
    const body = envelope(markowitzParamsArb, fc.subarray(['AAPL', 'MSFT', 'GOOGL'], { minLength: 0 }));
    await fc.assert(fc.asyncProperty(body, async (document) => expectInvariants(await deliver(model(markowitzModel), { document }))), runs);
  });
});
