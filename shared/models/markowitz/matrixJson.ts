import { JsonBytesWriter } from '../../results/jsonBytes.js';

/**
 * `JSON.stringify` of a p*p row-major matrix as an array of rows (how a result document
 * carries the covariance), byte for byte, as UTF-8 chunks: the helper thread writes the text
 * of a 1,000-asset covariance (a million numbers, ~20 MB) while the calling thread solves for
 * the portfolios, and hands the chunks over without a copy (a 20 MB string would be copied
 * into the calling thread, then joined, flattened and encoded again to be stored).
 */
export function matrixJsonChunks(values: Float64Array, p: number): Uint8Array[] {
  const out = new JsonBytesWriter();
  out.byte(0x5b);
  for (let i = 0; i < p; i++) {
    if (i > 0) out.byte(0x2c);
    out.byte(0x5b);
    for (let j = 0, at = i * p; j < p; j++, at++) {
      if (j > 0) out.byte(0x2c);
      out.number(values[at]);
    }
    out.byte(0x5d);
  }
  out.byte(0x5d);
  return out.take();
}

/** The rows of a p*p row-major matrix as arrays of numbers. */
export function matrixRows(values: Float64Array, p: number): number[][] {
  return Array.from({ length: p }, (_, i) => Array.from(values.subarray(i * p, (i + 1) * p)));
}
