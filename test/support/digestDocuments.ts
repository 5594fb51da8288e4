import { seededUniform } from './seededRandom.js';

/**
 * Jobs whose digests test/job/canonicalJson.test.ts pins: the digests the canonical writer of
 * before issue 11 (JSON.stringify with a sorted property list, and the token-stack writer)
 * gave them, so that a faster writer that changed one byte of the text fails.
 */

/** A Black-Scholes batch of `count` options as quotes come, some with fields of their own (a symbol, a spot). */
export function quotedOptions(count: number, seed = 11): Record<string, unknown>[] {
  const u = seededUniform(seed);
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  return Array.from({ length: count }, (_, i) => {
    const option: Record<string, unknown> = {
      option_type: i % 2 ? 'put' : 'call',
      spot: 100,
      strike: round(50 + 100 * u(), 2),
      time_to_expiry: round(1 / 365 + 10 * u(), 4),
      risk_free_rate: round(0.05 * u() - 0.01, 4),
      dividend_yield: round(0.03 * u(), 4),
      volatility: round(0.05 + u(), 4),
    };
    if (i % 3 === 0) option.market_price = round(20 * u(), 2);
    if (i % 97 === 0) option.symbol = 'AAPL';
    if (i % 389 === 0) option.spot = 100 + u() / 3; // full-precision digits
    return option;
  });
}

/**
 * A document that does not validate, as JSON.parse gives it: `__proto__` keys (own properties
 * after a parse), keys named like Object.prototype's, numeric-like and unicode keys, numbers
 * at the edges of their text form, a lone surrogate, and a nesting deeper than the recursive
 * writer goes.
 */
export function adversarialDocumentText(): string {
  let deep = '{"leaf":[1,{"z":-0,"a":5e-324}]}';
  for (let i = 0; i < 260; i++) deep = `{"n":${deep},"m":${i}}`;
  const records = Array.from({ length: 600 }, (_, i) =>
    i % 5 === 4
      ? `{"b":${i},"__proto__":{"x":1},"a":"\\u00e9"}`
      : i % 7 === 6
        ? `{"toString":${i},"constructor":null,"valueOf":true}`
        : `{"strike":${i / 8},"spot":1e21,"tiny":5e-324,"neg":-0,"big":1.7976931348623157e308,"text":"a\\"b\\\\c\\u2028\\ud800"}`,
  ).join(',');
  return (
    '{"job_id":"adv-1","__proto__":{"polluted":true},"params":{"options":[' +
    records +
    '],"10":"ten","2":"two","":"empty","é":"e-acute","😀":"emoji","a\\"b":null,"deep":' +
    deep +
    '},"symbols":[[],{},[[[]]]]}'
  );
}

/**
 * The reference canonical JSON: a plain recursive writer with the canonical rules (keys sorted
 * as UTF-16 strings, undefined members left out, an undefined element null, anything else as
 * JSON.stringify writes it alone, or null), for the digest tests to check the writers against.
 */
export const referenceCanonicalJson = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map((x) => (x === undefined ? 'null' : referenceCanonicalJson(x))).join(',')}]`
    : typeof v === 'object' && v !== null
      ? `{${Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => `${JSON.stringify(k)}:${referenceCanonicalJson((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : (JSON.stringify(v) ?? 'null');
