import { describe, expect, it } from 'vitest';
import { parseJob } from '../../shared/job/envelope.js';
import { canonicalJson, differentJobMessage, jobIdentity, jobIdentityBody, parseJobIdentity, jobIdentityJson, unvalidatedJobIdentity } from '../../shared/job/jobDigest.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { decodePubsubEvent } from '../../shared/job/pubsubEvent.js';
import { blackscholesModel } from '../../shared/models/blackscholes/job.js';
import { markowitzModel } from '../../shared/models/markowitz/job.js';
import { quotedOptions, referenceCanonicalJson } from '../support/digestDocuments.js';

const model = markowitzModel as ModelDefinition<unknown>;

/** The identity a delivery of `document` published at `publishTime` gets, through the real decode and validation. */
function identityOf(document: unknown, publishTime = '2026-06-03T10:00:00Z') {
  const data = { message: { data: Buffer.from(JSON.stringify(document)).toString('base64'), publishTime } };
  const message = decodePubsubEvent(data);
  return jobIdentity('markowitz', parseJob(message.document, model, message.publishTime.toISOString().slice(0, 10)));
}

const base = { job_id: 'mk-1', symbols: ['AAPL', 'MSFT'], start: '2024-01-01', end: '2024-12-31', params: { risk_free_rate: 0.03 } };

describe('canonical JSON', () => {
  it('sorts keys at every depth, keeps array order, drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });
});

describe('job identity', () => {
  it('is the same for the same job written with other key order or with its defaults spelled out', () => {
    const reference = identityOf(base);
    expect(reference.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const reordered = { params: { risk_free_rate: 0.03 }, end: '2024-12-31', start: '2024-01-01', symbols: ['AAPL', 'MSFT'], job_id: 'mk-1' };
    expect(identityOf(reordered).digest).toBe(reference.digest);
    const spelledOut = { ...base, params: { risk_free_rate: 0.03, covariance: 'ledoit_wolf', long_only: false, frontier_points: 20, periods_per_year: 252 } };
    expect(identityOf(spelledOut).digest).toBe(reference.digest);
    // What is digested is the validated job, defaults included.
    expect(reference.job).toEqual({ job_id: 'mk-1', symbols: ['AAPL', 'MSFT'], start: '2024-01-01', end: '2024-12-31', params: { covariance: 'ledoit_wolf', long_only: false, risk_free_rate: 0.03, frontier_points: 20, periods_per_year: 252 } });
  });

  it('differs when a param, the symbols, their order or the window differ', () => {
    const reference = identityOf(base).digest;
    expect(identityOf({ ...base, params: { risk_free_rate: 0.04 } }).digest).not.toBe(reference);
    expect(identityOf({ ...base, params: { risk_free_rate: 0.03, long_only: true } }).digest).not.toBe(reference);
    expect(identityOf({ ...base, symbols: ['MSFT', 'AAPL'] }).digest).not.toBe(reference);
    expect(identityOf({ ...base, start: '2024-01-02' }).digest).not.toBe(reference);
    // The same job for another model is another job.
    const parsed = parseJob(base, model, '2026-06-03');
    expect(jobIdentity('montecarlo', parsed).digest).not.toBe(jobIdentity('markowitz', parsed).digest);
  });

  it('expands {date} placeholders first: a placeholder and the date it stands for are the same job', () => {
    const templated = identityOf({ ...base, end: '{date}', start: '{date-30d}' }, '2026-06-03T23:59:00Z');
    const literal = identityOf({ ...base, end: '2026-06-03', start: '2026-05-04' });
    expect(templated.digest).toBe(literal.digest);
  });

  it('resolves a defaulted window from the publish date: the same day is the same job, a later day is another', () => {
    const { end, start, ...open } = base;
    void end;
    void start;
    const morning = identityOf(open, '2026-06-03T08:00:00Z');
    expect(morning.job).toMatchObject({ start: '2025-06-03', end: '2026-06-03' });
    expect(identityOf(open, '2026-06-03T22:00:00Z').digest).toBe(morning.digest);
    expect(identityOf(open, '2026-06-04T08:00:00Z').digest).not.toBe(morning.digest);
  });

  it('keeps a job that did not validate as received, apart from any valid job', () => {
    const invalid = unvalidatedJobIdentity('markowitz', 'mk-1', { job_id: 'mk-1', params: { risk_free_rate: 'x' } });
    expect(invalid.valid).toBe(false);
    expect(invalid.digest).toBe(unvalidatedJobIdentity('markowitz', 'mk-1', { params: { risk_free_rate: 'x' }, job_id: 'mk-1' }).digest);
    expect(invalid.digest).not.toBe(identityOf(base).digest);
  });

  it('round-trips through job.json, and a file that is not one is not trusted', () => {
    const reference = identityOf(base);
    expect(parseJobIdentity(jobIdentityJson(reference))).toEqual(reference);
    expect(parseJobIdentity('{"digest": 3}')).toBeNull();
    expect(parseJobIdentity('not json')).toBeNull();
  });
});

describe('the refusal sentence', () => {
  it('names the job_id, the first field that differs with both values, and the way out', () => {
    const stored = identityOf(base);
    const offered = identityOf({ ...base, params: { risk_free_rate: 0.05 } });
    expect(differentJobMessage(stored, offered)).toBe(
      'job_id "mk-1" already names a different markowitz job (params.risk_free_rate was 0.03, this job has 0.05); ' +
        'its stored result is kept and this job was not run. Publish this job under a new job_id.',
    );
    const moreSymbols = identityOf({ ...base, symbols: ['AAPL', 'MSFT', 'GOOGL'] });
    expect(differentJobMessage(stored, moreSymbols)).toContain('(symbols was ["AAPL","MSFT"], this job has ["AAPL","MSFT","GOOGL"])');
    const invalid = unvalidatedJobIdentity('markowitz', 'mk-1', { job_id: 'mk-1', params: { risk_free_rate: 'x' } });
    expect(differentJobMessage(invalid, stored)).toContain('already names a different markowitz job (one that did not validate);');
  });

  it('names the field of two large batches, and own members only (not what an object inherits)', () => {
    const options = quotedOptions(20_000);
    const changed = options.map((option, i) => (i === 19_999 ? { ...option, strike: 1 } : option));
    const bs = (list: unknown[]) => unvalidatedJobIdentity('blackscholes', 'bs-1', { job_id: 'bs-1', params: { options: list } });
    expect(differentJobMessage(bs(options), bs(changed))).toContain(`(params.options[19999].strike was ${options[19_999]!.strike}, this job has 1)`);
    // Two documents that did not validate: `toString` is the offered job's own, the stored one's is inherited.
    const stored = unvalidatedJobIdentity('markowitz', 'mk-1', { params: {} });
    expect(differentJobMessage(stored, unvalidatedJobIdentity('markowitz', 'mk-1', { params: { toString: [] } }))).toContain('(params.toString was absent, this job has [])');
    const parsed = JSON.parse('{"params":{"__proto__":{"a":1}}}') as unknown; // an own __proto__ key, as JSON.parse makes it
    expect(differentJobMessage(stored, unvalidatedJobIdentity('markowitz', 'mk-1', parsed))).toContain('(params.__proto__ was absent, this job has {"a":1})');
    // Written in one and left out of the other: null against undefined.
    const nulls = (value: unknown) => unvalidatedJobIdentity('markowitz', 'mk-1', { params: { a: value, b: 1 } });
    expect(differentJobMessage(nulls(null), nulls(undefined))).toContain('(params was {"a":null,"b":1}, this job has {"b":1})');
  });
});

describe('canonical JSON of large and unusual documents', () => {
  // The reference: a plain recursive writer (objects' keys sorted as strings, so "10" before "2").
  const reference = referenceCanonicalJson;

  it('equals sorted-keys JSON for numeric-like, unicode and escaped keys, holes and undefined members', () => {
    const doc = { b: [1, undefined, { '10': 1, '2': 2, é: 'x', 'a"b': null }], a: { z: true, y: -0, x: 1e21, w: '\u2028' }, '': [[], {}] };
    expect(canonicalJson(doc)).toBe(reference(doc));
    const parsed = JSON.parse('{"b":1,"__proto__":{"y":1,"x":2},"a":[{"__proto__":3}]}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":2,"y":1},"a":[{"__proto__":3}],"b":1}');
  });

  it('gives the same text at any depth (past the fast path) and for 100,000 options', () => {
    let deep: unknown = { v: 1, a: 2 };
    for (let i = 0; i < 500; i++) deep = { n: deep, m: i };
    expect(canonicalJson(deep)).toBe(reference(deep));
    const options = Array.from({ length: 100_000 }, (_, i) => ({ strike: 100 + i / 7, option_type: i % 2 ? 'put' : 'call', spot: 100, time_to_expiry: 1 }));
    const job = { job_id: 'big', symbols: [], params: { options, periods_per_year: 252 } };
    expect(canonicalJson(job)).toBe(reference(job));
  });

  it('writes a large job.json compact from the canonical text, and reads it back to the same identity', () => {
    const options = Array.from({ length: 20_000 }, (_, i) => ({ strike: 100 + i, spot: 100, time_to_expiry: 1, volatility: 0.2 }));
    const large = identityOf({ job_id: 'big-1', symbols: ['AAPL'], start: '2024-01-01', end: '2024-12-31', params: { frontier_points: 20 } });
    expect(large.digest).toMatch(/^sha256:/);
    const bs = unvalidatedJobIdentity('blackscholes', 'bs-big', { job_id: 'bs-big', params: { options } });
    const text = jobIdentityJson(bs);
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text).not.toContain('\n  ');
    const back = parseJobIdentity(text);
    expect(back).toEqual(bs);
    // The digest is of the same canonical text as a small job's.
    expect(bs.digest).toBe(unvalidatedJobIdentity('blackscholes', 'bs-big', { params: { options }, job_id: 'bs-big' }).digest);
  });
});

describe("job.json's body for the store", () => {
  it('is, for a large job, the chunks of its canonical text between head and tail: the compact text, byte for byte', () => {
    const job = parseJob({ job_id: 'bs-body', symbols: ['AAPL'], params: { options: quotedOptions(20_000) } }, blackscholesModel, '2026-06-03');
    const identity = jobIdentity('blackscholes', job);
    const compact = `{"model":"blackscholes","job_id":"bs-body","digest":"${identity.digest}","job":${referenceCanonicalJson(identity.job)},"valid":true}\n`;
    const body = jobIdentityBody(identity);
    expect(Array.isArray(body)).toBe(true);
    expect((body as Uint8Array[]).length).toBeGreaterThan(3); // the digest's pieces, not one copy
    expect(Buffer.concat(body as Uint8Array[]).equals(Buffer.from(compact, 'utf8'))).toBe(true);
    // The digest's pieces are let go once written; asked again, the body is written afresh, the same.
    expect(jobIdentityJson(identity)).toBe(compact);
  });

  it('is, for a small job, the indented text', () => {
    const identity = jobIdentity('markowitz', parseJob({ job_id: 'mk-body', symbols: ['AAPL', 'MSFT'], params: {} }, markowitzModel, '2026-06-03'));
    expect(jobIdentityBody(identity)).toBe(`${JSON.stringify(identity, null, 2)}\n`);
  });
});
