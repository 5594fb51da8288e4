import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeCanonicalJsonBytes } from '../../shared/job/canonicalJson.js';
import { referenceCanonicalJson } from '../support/digestDocuments.js';

// The digest is taken of the bytes writeCanonicalJsonBytes writes (numbers by writeJsonNumber,
// plain ASCII strings byte by byte, keys encoded once a shape): they must be, byte for byte,
// the UTF-8 of the reference text writer's canonical JSON.

const fatal = new TextDecoder('utf-8', { fatal: true });

/** The writer's pieces at `chunkBytes`, each checked to be UTF-8 on its own (pieces end between tokens). */
function written(value: unknown, chunkBytes?: number): Buffer {
  const pieces: Buffer[] = [];
  writeCanonicalJsonBytes(value, (piece) => pieces.push(Buffer.from(piece)), chunkBytes);
  for (const piece of pieces) fatal.decode(piece);
  return Buffer.concat(pieces);
}

/** The reference text as UTF-8 (it has no lone surrogate: JSON escapes them, so the encoding is exact). */
const expected = (value: unknown) => Buffer.from(referenceCanonicalJson(value), 'utf8');

/** Numbers of every kind: short decimals (the fast digits), 16-17 digits, integers, exponents, edges, non-finite. */
const number = fc.oneof(
  fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 8 })).map(([m, k]) => m / 10 ** k),
  fc.double(),
  fc.double({ min: -1e-5, max: 1e-5 }),
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 1e-6, 1e15, 1e15 - 1, 999999999999999.9, 5e-324, -5e-324, Number.MAX_VALUE, 0.1 + 0.2, 2 ** 53, NaN, Infinity, -Infinity),
);

/** Strings that take each path: plain ASCII, quotes and backslashes, control characters, DEL, non-ASCII, pairs and lone surrogates. */
const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.constantFrom('', 'call', 'put', 'a"b', 'back\\slash', '\n\t\u0000\u001f', '\u007f', 'é', 'e\u0301', '😀', '\ud800', 'x\udc00y', '\u2028\u2029', '</script>'),
);

/** A member's value in a flat record: a number, a string, a boolean, null, or undefined (left out). */
const member = fc.oneof({ weight: 4, arbitrary: number }, { weight: 2, arbitrary: text }, fc.boolean(), fc.constant(null), fc.constant(undefined));

/** Keys: the options' own, numeric-like ones (objects order them first), unicode and escapes, Object.prototype's names, `__proto__`. */
const key = fc.oneof(
  fc.constantFrom('spot', 'strike', 'option_type', 'market_price', 'volatility', '10', '2', '01', '', 'é', '😀', 'a"b', '\ud800', '\u2028', 'constructor', 'toString', '__proto__'),
  fc.string({ maxLength: 3 }),
);

/** An object with these own members in this order (`__proto__` an own key, as JSON.parse makes it). */
function record(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

describe('the canonical byte writer', () => {
  it('writes the reference bytes for arrays of flat records: repeated shapes, keys in another order, missing members, every kind of number and string', () => {
    // Records from a few key sets, in runs (the shape kept from record to record) and mixed,
    // some with their keys inserted in another order (a different Object.keys, the same text).
    const keySet = fc.uniqueArray(key, { minLength: 0, maxLength: 8 });
    const pick = fc.record({ set: fc.nat(3), reversed: fc.boolean(), values: fc.array(member, { minLength: 8, maxLength: 8 }) });
    fc.assert(
      fc.property(fc.array(keySet, { minLength: 1, maxLength: 4 }), fc.array(pick, { minLength: 1, maxLength: 300 }), fc.constantFrom(undefined, 7, 64, 4096), (sets, picks, chunkBytes) => {
        const items = picks.map(({ set, reversed, values }) => {
          const keys = sets[set % sets.length];
          const entries = keys.map((k, i) => [k, values[i]] as const);
          return record(reversed ? entries.reverse() : entries);
        });
        const document = { job_id: 'bs-1', params: { options: items, periods_per_year: 252 }, symbols: [] };
        expect(written(document, chunkBytes).equals(expected(document))).toBe(true);
      }),
      { seed: 20261201, numRuns: 400 },
    );
  });

  it('writes the reference bytes for any nesting of values, in pieces of any size', () => {
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        member,
        fc.array(tie('value'), { maxLength: 5 }),
        fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(record),
      ),
    })).value;
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 100 }), (v, chunkBytes) => {
        expect(written(v, chunkBytes).equals(expected(v))).toBe(true);
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('writes a long string, a long key and a token longer than a piece whole', () => {
    const long = { ['k'.repeat(5000)]: 'é'.repeat(40_000), plain: 'x'.repeat(70_000), escaped: '"'.repeat(30_000) };
    expect(written(long, 16).equals(expected(long))).toBe(true);
    expect(written(long).equals(expected(long))).toBe(true);
  });
});
