import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, writeCanonicalJson } from '../../shared/job/canonicalJson.js';
import { parseJob } from '../../shared/job/envelope.js';
import { jobIdentity, jobIdentityJson, parseJobIdentity, unvalidatedJobIdentity } from '../../shared/job/jobDigest.js';
import type { ModelDefinition } from '../../shared/job/model.js';
import { MODEL_LOADERS, type FunctionName } from '../../shared/registry.js';
import { adversarialDocumentText, quotedOptions, referenceCanonicalJson } from '../support/digestDocuments.js';

const reference = referenceCanonicalJson;

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Pieces of the canonical text written with a small chunk size, as UTF-8. */
function chunkBytes(value: unknown, chunkSize: number): Buffer {
  const pieces: Buffer[] = [];
  writeCanonicalJson(value, (text) => pieces.push(Buffer.from(text, 'utf8')), chunkSize);
  return Buffer.concat(pieces);
}

describe('job digests stay what they were', () => {
  // Computed with the canonical writer of before issue 11's rewrite (a sorted property list
  // for JSON.stringify, the token stack past it); job.json files stored since hold these.
  const pinned: Record<FunctionName, string> = {
    blackscholes: 'sha256:4f3342d6fa931f04e7503843ccc65123fca9d5751000b8f88a4711681f1400ad',
    markowitz: 'sha256:604e2d5e0555c5f010225f09c26b6a99c8f47ad95c1920fd5fab896cbdde006f',
    montecarlo: 'sha256:1e37155e9fead733817c0c6090248f6fd13e5118a46ca3706bdbe61887d04ee1',
    ingest: 'sha256:e796deee52eedddc54a4f12fc1c36beee21464fc44adfb5430d082461506b5eb',
  };

  it.each(Object.keys(pinned) as FunctionName[])('for the %s fixture job', async (name) => {
    const model = (await MODEL_LOADERS[name]()) as ModelDefinition<unknown>;
    const document = JSON.parse(readFileSync(`fixtures/jobs/${name}.json`, 'utf8')) as unknown;
    expect(jobIdentity(name, parseJob(document, model, '2026-06-03')).digest).toBe(pinned[name]);
  });

  it('for 20,000 validated options, and job.json reads back to the same identity', async () => {
    const model = (await MODEL_LOADERS.blackscholes()) as ModelDefinition<unknown>;
    const document = { job_id: 'bs-pinned', symbols: ['AAPL'], params: { options: quotedOptions(20_000), periods_per_year: 252 } };
    const identity = jobIdentity('blackscholes', parseJob(document, model, '2026-06-03'));
    expect(identity.digest).toBe('sha256:bdbb384f0fe175ff7c9f98429e1d0cf459ff177d0cccf6836315733bc234e9ad');
    const stored = parseJobIdentity(jobIdentityJson(identity));
    expect(stored?.digest).toBe(identity.digest);
    expect(stored?.job).toEqual(JSON.parse(canonicalJson(identity.job)));
  });

  it('for a document that did not validate: __proto__ keys, unicode, edge numbers, deep nesting', () => {
    const document = JSON.parse(adversarialDocumentText()) as unknown;
    const identity = unvalidatedJobIdentity('blackscholes', 'adv-1', document);
    expect(identity.digest).toBe('sha256:ddc1834a511058197da759fba0058c67937201d896195ad94a8799bd0e062920');
    expect(identity.digest).toBe(sha256(`{"job":${reference(document)},"model":"blackscholes","valid":false}`));
  });
});

// Keys that a fast path could get wrong: prototype names, numeric-like keys (which objects
// order first), unicode and escapes.
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '10', '2', '01', '', 'é', 'e\u0301', '😀', '\u2028', 'a"b', '\ud800', 'strike', 'spot'),
  fc.string({ maxLength: 4 }),
);
const number = fc.oneof(
  fc.constantFrom(0, -0, 1e21, 1e-7, 1e-6, 5e-324, -5e-324, 1.7976931348623157e308, 0.1, 0.30000000000000004, 2 ** 53, NaN, Infinity, -Infinity),
  fc.double(),
  fc.integer(),
);
const primitive = fc.oneof(number, fc.string({ maxLength: 6, unit: 'binary' }), fc.boolean(), fc.constant(null), fc.constant(undefined));
/** Values built in JavaScript (own `__proto__` keys only through defineProperty, as JSON.parse makes them). */
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(ownObject),
    fc.constant(new Date(0)),
  ),
})).value;

function ownObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

describe('the canonical writer', () => {
  it('equals the reference on random values with unusual keys and numbers', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { seed: 20261201, numRuns: 1500 },
    );
  });

  it('equals the reference on long arrays of records: shapes that change, undefined and non-JSON members, nesting, __proto__', () => {
    // Records from a few templates, in random order: runs of one shape are written by
    // JSON.stringify, which must not see a nested value, a function, a Date or `__proto__`.
    const template = fc.array(fc.tuple(key, fc.oneof(primitive, fc.constant(() => 1), fc.constant(new Date(0)), fc.constant({ b: 1, a: [2] }))), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(template, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(9), { minLength: 256, maxLength: 1500 }), (templates, picks) => {
        const items = picks.map((p) => (p < templates.length ? ownObject(templates[p]) : p === 8 ? null : p === 9 ? [p] : ownObject(templates[0])));
        const document = { options: items, periods_per_year: 252 };
        expect(canonicalJson(document)).toBe(reference(document));
      }),
      { seed: 11, numRuns: 150 },
    );
  });

  it('equals the reference on JSON.parse output, where __proto__ is an own key', () => {
    const records = Array.from({ length: 700 }, (_, i) => (i % 300 === 299 ? `{"__proto__":${i},"a":1}` : `{"b":${i / 3},"a":"x"}`));
    const parsed = JSON.parse(`{"options":[${records.join(',')}]}`) as unknown;
    expect(canonicalJson(parsed)).toBe(reference(parsed));
    expect(canonicalJson(parsed)).toContain('{"__proto__":299,"a":1}');
  });

  it('hands out pieces whose UTF-8 bytes make the whole text (no surrogate pair split)', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 40 }), (v, chunkSize) => {
        expect(chunkBytes(v, chunkSize).equals(Buffer.from(canonicalJson(v), 'utf8'))).toBe(true);
      }),
      { seed: 7, numRuns: 500 },
    );
    const pairs = { text: '😀'.repeat(50), more: ['😀😀', '\ud800x'] };
    expect(chunkBytes(pairs, 3).toString('utf8')).toBe(reference(pairs));
  });
});
