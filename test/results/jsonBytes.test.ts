import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonBytesWriter, MAX_NUMBER_BYTES, writeJsonNumber } from '../../shared/results/jsonBytes.js';

const decoder = new TextDecoder();
const scratch = new Uint8Array(MAX_NUMBER_BYTES);

/** What writeJsonNumber writes for `value`, as text. */
function written(value: number): string {
  return decoder.decode(scratch.subarray(0, writeJsonNumber(scratch, 0, value)));
}

describe('writeJsonNumber', () => {
  it('writes every kind of number as JSON.stringify does', () => {
    const edges = [
      0, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** 53, 2 ** 53 - 1, 1e15, 1e15 - 1,
      999999999999999.9, 1e21, 1e-6, 1e-7, 9.99999e-7, 0.1, 0.2, 0.1 + 0.2, 100, 115.52, -0.0216, 0.0001, 123456789012345,
      12345678901234.5, 1.5e-6, 0.000001234567890123, 99999999999999.99, 5e-324,
    ];
    for (const x of edges) expect(written(x), String(x)).toBe(JSON.stringify(x));
  });

  it('writes decimals of up to 17 digits at every scale as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 17n }), fc.integer({ min: -30, max: 25 }), fc.boolean(), (digits, exponent, negative) => {
        const x = Number(`${negative ? '-' : ''}${digits}e${exponent}`);
        expect(written(x)).toBe(JSON.stringify(x));
      }),
      { numRuns: 50_000 },
    );
  });

  it('writes any double as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(written(x)).toBe(JSON.stringify(x));
      }),
      { numRuns: 50_000 },
    );
  });

  it('writes numbers of 16 and 17 significant digits between 1e-6 and 1e15 as JSON.stringify does', () => {
    // Every double of the range with a random significand: almost all need 16 or 17 digits.
    const bitsOf = new Float64Array(1);
    const words = new Uint32Array(bitsOf.buffer);
    fc.assert(
      fc.property(fc.integer({ min: -20, max: 49 }), fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (exponent, high, low, negative) => {
        words[1] = ((exponent + 1023) << 20) | high;
        words[0] = low;
        const x = negative ? -bitsOf[0] : bitsOf[0];
        expect(written(x)).toBe(JSON.stringify(x));
      }),
      { numRuns: 60_000 },
    );
  });

  it('writes the neighbours of short decimals, powers of two and halfway cases as JSON.stringify does', () => {
    const bitsOf = new Float64Array(1);
    const words = new Uint32Array(bitsOf.buffer);
    const near: number[] = [];
    for (const x of [0.1, 0.3, 1, 1.5, 2, 100, 115.52, 0.0216, 1e-6, 2 ** -19, 2 ** 20, 2 ** 49, 999999999999999, 123456.789, 1e15 - 0.125]) {
      for (let step = -3; step <= 3; step++) {
        bitsOf[0] = x;
        words[0] += step; // the doubles around x (x's own low word never wraps for these)
        near.push(bitsOf[0]);
      }
    }
    // Odd multiples of 2^-n: halfway between decimals of some length.
    for (let n = 1; n < 40; n++) near.push(2 ** -n, 3 * 2 ** -n, 1 + 2 ** -n, 1000 + 5 * 2 ** -n);
    for (const x of near) expect(written(x), String(x)).toBe(JSON.stringify(x));
  });

  it('writes the prices and Greeks of a batch of options without falling back on String', () => {
    // Outputs of the models need 16 or 17 digits: the second fast path, not V8's String, writes them.
    const values: number[] = [];
    for (let i = 1; i <= 5_000; i++) {
      const x = i / 977;
      values.push(Math.exp(-x) * x, Math.sqrt(x) / 3, Math.log1p(x) * 1e3, 1 / (1 + x * x));
    }
    const original = globalThis.String;
    let calls = 0;
    globalThis.String = ((value?: unknown) => (calls++, original(value))) as StringConstructor;
    const texts: string[] = [];
    try {
      for (const x of values) texts.push(written(x));
    } finally {
      globalThis.String = original;
    }
    expect(calls).toBe(0);
    expect(texts).toEqual(values.map((x) => JSON.stringify(x)));
  });

  it('writes the decimals of quotes (cents, four decimals of a year) without falling back on String', () => {
    // The fast path is what makes the writer worth having: a short decimal never reaches String().
    const original = globalThis.String;
    let calls = 0;
    globalThis.String = ((value?: unknown) => (calls++, original(value))) as StringConstructor;
    try {
      for (let i = 1; i < 20_000; i++) {
        writeJsonNumber(scratch, 0, i / 100);
        writeJsonNumber(scratch, 0, -i / 10_000);
        writeJsonNumber(scratch, 0, i * 1_000);
      }
    } finally {
      globalThis.String = original;
    }
    expect(calls).toBe(0);
  });
});

describe('JsonBytesWriter', () => {
  it('writes the UTF-8 of the same JSON text as JSON.stringify, across chunks', () => {
    const writer = new JsonBytesWriter(64); // small chunks: many boundaries
    const values = [1.5, 'é ü — "quoted"\n', -0, 0.1 + 0.2, 'x'.repeat(100), null];
    writer.byte(0x5b);
    values.forEach((value, i) => {
      if (i > 0) writer.byte(0x2c);
      if (typeof value === 'number') writer.number(value);
      else if (typeof value === 'string') writer.string(value);
      else writer.bytes(Buffer.from('null'));
    });
    writer.byte(0x5d);
    const length = writer.length;
    const chunks = writer.take();
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(JSON.stringify(values));
    expect(length).toBe(Buffer.byteLength(JSON.stringify(values)));
    expect(writer.take()).toEqual([]);
  });
});
