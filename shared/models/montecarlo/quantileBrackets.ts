import { inverseNormalCdf, normalPdf } from '../../numerics/normal.js';

/**
 * The rules both kinds of brackets follow (bandBrackets.ts, terminalBrackets.ts): where a
 * bracket around a quantile of a normal law lies, and how much room a block needs for the
 * values that fall in one.
 */

/** Below this many paths the stores are small and a full selection as fast. */
export const MIN_BRACKETED_SIMULATIONS = 100_000;

/** Half-width of a bracket, in standard errors of the sample quantile. */
const BRACKET_STANDARD_ERRORS = 8;

/**
 * The bracket around the p-quantile of a normal law in units of its standard deviation:
 * z_p +- 8 sqrt(p (1 - p) / n) / phi(z_p), eight standard errors of the sample quantile of
 * n values either side (the sample quantile falls outside with probability ~1e-15).
 */
export function quantileBracket(p: number, simulations: number): [low: number, high: number] {
  const z = inverseNormalCdf(p);
  const half = (BRACKET_STANDARD_ERRORS * Math.sqrt((p * (1 - p)) / simulations)) / normalPdf(z);
  return [z - half, z + half];
}

/** Room per block for a bracket expected to hold `expected` of its values: ten Poisson sigmas over. */
export function bracketCapacity(expected: number): number {
  return Math.ceil(expected + 10 * Math.sqrt(expected) + 16);
}
