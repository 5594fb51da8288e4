/**
 * `JSON.stringify` of a p*p row-major matrix as an array of rows (how a result document
 * carries the covariance), byte for byte: built the same way, so the helper thread can write
 * the text of a 1,000-asset covariance (a million numbers, ~20 MB) while the calling thread
 * solves for the portfolios.
 */
export function matrixJson(values: Float64Array, p: number): string {
  return JSON.stringify(matrixRows(values, p));
}

/** The rows of a p*p row-major matrix as arrays of numbers. */
export function matrixRows(values: Float64Array, p: number): number[][] {
  return Array.from({ length: p }, (_, i) => Array.from(values.subarray(i * p, (i + 1) * p)));
}
