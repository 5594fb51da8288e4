import { normalCdf } from '../../numerics/normal.js';
import { selectRanks } from '../../numerics/quantile.js';
import { BAND_EDGES, classifyBands } from '../../numerics/random/normalStepKernel.js';
import { BLOCK_SIZE } from './limits.js';
import { bracketCapacity, MIN_BRACKETED_SIMULATIONS, quantileBracket } from './quantileBrackets.js';

/**
 * Band percentiles of one asset without a pass over the band store afterwards.
 *
 * A one-asset band store holds the log-prices x_t (bandsHoldLogs), whose law is known
 * exactly: x_t ~ N((mu - sigma^2/2) t, sigma^2 t). Its sample p-quantile lies within a few
 * standard errors sqrt(p (1 - p) / n) / phi(z_p) sigma sqrt(t) of the true one, so each
 * block, as it stores its values, counts them against the edges of narrow brackets around
 * the five band quantiles and keeps the few inside a bracket (classifyBands, on the SIMD
 * kernel). Afterwards the counts, summed, tell each wanted rank's region; when that is a
 * bracket, the order statistic is selected among that bracket's values alone (~1% of the
 * paths). Exact either way: the counts are exact, and a rank outside its bracket (the law
 * was not as assumed, or a 1e-15 chance) or a block with more bracket values than it has
 * room for sends that point to the full selection over the store (statistics.ts). Blocks
 * write only their own slots, so the result never depends on the threads.
 */

const BRACKETS = BAND_EDGES / 2;

export interface BandBrackets {
  /** Interior band points. */
  readonly points: number;
  /** Per point, BAND_EDGES increasing float32 edges: bracket k is [e2k, e2k+1). */
  readonly edges: Float32Array;
  /** Room per block, point and bracket for values inside the bracket. */
  readonly capacity: number;
}

/** Where blocks leave their counts and bracket values (shared between threads). */
export interface BracketBuffers {
  /** [block][point][edge] values at or above the edge. */
  readonly atOrAbove: Int32Array;
  /** [block][point][bracket] values found inside the bracket (may exceed capacity). */
  readonly filled: Int32Array;
  /** [block][point][bracket][capacity] the values themselves, float32 as stored. */
  readonly values: Float32Array;
}

/**
 * Brackets for the interior band points of a one-asset log store around the
 * `probabilities` quantiles (BRACKETS of them), or undefined when the plan is too small
 * to need them or its brackets would touch.
 * @param bandTimes years of the interior band points
 */
export function bandBracketsFor(
  simulations: number,
  drift: number,
  volatility: number,
  bandTimes: readonly number[],
  probabilities: readonly number[],
): BandBrackets | undefined {
  if (simulations < MIN_BRACKETED_SIMULATIONS || !(volatility > 0) || probabilities.length !== BRACKETS) return undefined;
  const sorted = [...probabilities].sort((a, b) => a - b);
  // Bracket k in units of the point's standard deviation: z_k +- half-width.
  const z = sorted.flatMap((p) => quantileBracket(p, simulations));
  const edges = new Float32Array(bandTimes.length * BAND_EDGES);
  bandTimes.forEach((t, j) => {
    const mean = (drift - 0.5 * volatility ** 2) * t;
    const sd = volatility * Math.sqrt(t);
    z.forEach((zi, i) => (edges[j * BAND_EDGES + i] = mean + sd * zi));
  });
  for (let i = 1; i < edges.length; i++) if (i % BAND_EDGES !== 0 && !(edges[i] > edges[i - 1])) return undefined;
  let widest = 0;
  for (let b = 0; b < BRACKETS; b++) widest = Math.max(widest, normalCdf(z[2 * b + 1]) - normalCdf(z[2 * b]));
  const mean = BLOCK_SIZE * widest;
  return { points: bandTimes.length, edges, capacity: bracketCapacity(mean) };
}

export function allocateBracketBuffers(brackets: BandBrackets, blocks: number, shared: boolean): BracketBuffers {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const slots = blocks * brackets.points;
  return {
    atOrAbove: new Int32Array(new Buffer(4 * slots * BAND_EDGES)),
    filled: new Int32Array(new Buffer(4 * slots * BRACKETS)),
    values: new Float32Array(new Buffer(4 * slots * BRACKETS * brackets.capacity)),
  };
}

// This thread's room for one block's bracketed values before they go to their slots.
const bracketed = new Float32Array(BLOCK_SIZE);
const bracketOf = new Uint8Array(BLOCK_SIZE);

/**
 * Counts block `block`'s values of interior point j (1-based; the float32 roundings of
 * logs[0..n), as the store holds them) against the point's edges and keeps those inside a
 * bracket.
 */
export function recordBlockBand(brackets: BandBrackets, out: BracketBuffers, block: number, j: number, logs: Float64Array, n: number): void {
  const slot = block * brackets.points + (j - 1);
  const m = classifyBands(logs, n, brackets.edges, (j - 1) * BAND_EDGES, out.atOrAbove, slot * BAND_EDGES, bracketed, bracketOf);
  const { capacity } = brackets;
  const { filled, values } = out;
  for (let q = 0; q < m; q++) {
    const at = slot * BRACKETS + bracketOf[q];
    const count = filled[at]++;
    if (count < capacity) values[at * capacity + count] = bracketed[q];
  }
}

/**
 * What the band percentiles need from the blocks' brackets, however they were gathered: from
 * one instance's buffers (bandTotalsOf) or merged from shards (shards.ts).
 */
export interface BandTotals {
  /** Interior point j's (1-based) count of values at or above each of its edges, over every block. */
  atOrAbove(j: number): Float64Array;
  /** Point j's values inside bracket b, gathered in block order, or null when a block overflowed its room. */
  bracketValues(j: number, bracket: number, size: number): Float64Array | null;
}

/** The totals of one instance's buffers. */
export function bandTotalsOf(brackets: BandBrackets, out: BracketBuffers, blocks: number): BandTotals {
  return {
    atOrAbove: (j) => sumAtOrAbove(brackets, out, 0, blocks, j),
    bracketValues: (j, b, size) => gatherBandBracket(brackets, out, 0, blocks, j, b, size),
  };
}

/** Point j's counts at or above each edge over blocks first .. first + blocks - 1. */
export function sumAtOrAbove(brackets: BandBrackets, out: BracketBuffers, first: number, blocks: number, j: number): Float64Array {
  const atOrAbove = new Float64Array(BAND_EDGES);
  for (let block = first; block < first + blocks; block++) {
    const slot = block * brackets.points + (j - 1);
    for (let i = 0; i < BAND_EDGES; i++) atOrAbove[i] += out.atOrAbove[slot * BAND_EDGES + i];
  }
  return atOrAbove;
}

/** Point j's values inside bracket b over blocks first .. first + blocks - 1, in block order, or null on overflow. */
export function gatherBandBracket(
  brackets: BandBrackets,
  out: BracketBuffers,
  first: number,
  blocks: number,
  j: number,
  b: number,
  size: number,
): Float64Array | null {
  const { capacity, points } = brackets;
  const values = new Float64Array(size);
  let at = 0;
  for (let block = first; block < first + blocks; block++) {
    const slot = (block * points + (j - 1)) * BRACKETS + b;
    const count = out.filled[slot];
    if (count > capacity) return null;
    values.set(out.values.subarray(slot * capacity, slot * capacity + count), at);
    at += count;
  }
  return values;
}

/** Brackets per band point. */
export const BAND_BRACKETS = BRACKETS;

/**
 * The order statistics `ranks` (0-based, over all `simulations` paths) of interior point j
 * from the blocks' brackets, or undefined when one falls outside its bracket or a bracket
 * overflowed a block's room: the caller then selects over the whole store.
 */
export function bracketedOrderStatistics(totals: BandTotals, simulations: number, j: number, ranks: readonly number[]): Float64Array | undefined {
  // Region r holds the values with exactly r edges at or below them: 2k + 1 is bracket k.
  const atOrAbove = totals.atOrAbove(j);
  const regionSize = (r: number) => (r === 0 ? simulations : atOrAbove[r - 1]) - (r === BAND_EDGES ? 0 : atOrAbove[r]);
  const result = new Float64Array(ranks.length);
  const gathered = new Map<number, Float64Array>();
  for (let i = 0; i < ranks.length; i++) {
    let before = 0;
    let region = 0;
    while (before + regionSize(region) <= ranks[i]) before += regionSize(region++);
    if (region % 2 === 0) return undefined;
    const b = (region - 1) / 2;
    let inBracket = gathered.get(b);
    if (!inBracket) {
      const values = totals.bracketValues(j, b, regionSize(region));
      if (!values) return undefined;
      inBracket = values;
      gathered.set(b, inBracket);
    }
    result[i] = selectRanks(inBracket, [ranks[i] - before])[0];
  }
  return result;
}
