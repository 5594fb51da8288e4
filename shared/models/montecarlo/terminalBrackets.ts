import { inverseNormalCdf, normalCdf, normalPdf } from '../../numerics/normal.js';
import { selectRanks } from '../../numerics/quantile.js';
import { BLOCK_SIZE } from './limits.js';
import { bracketCapacity, MIN_BRACKETED_SIMULATIONS, quantileBracket } from './quantileBrackets.js';

/**
 * One asset's terminal statistics without storing a million terminal values.
 *
 * The terminal log-price x_T of one asset is exactly N((mu - sigma^2/2) T, sigma^2 T), and
 * its terminal price S = S_0 e^x and portfolio value V = 0 + w e^x are the same increasing
 * function of x on every path (simulation.ts computes e = e^x once). So every percentile the
 * result needs (the terminal price's, the portfolio's VaR quantiles and horizon band) is
 * S or V of an order statistic of x. As in bandBrackets.ts, each block counts its x by
 * region of a table of bins (regions alternate gaps and narrow brackets around the wanted
 * quantiles, 8 standard errors of the sample quantile either side), keeps the x inside a
 * bracket, and sums the returns R = V - 1 of each region (compensated), which gives the
 * expected shortfall: the returns of the regions below the VaR quantile's bracket, plus
 * those inside it up to the quantile. The bin of x is floor((x - low) scale), which never
 * decreases as x grows, so the counts are exact. A rank outside every bracket (a 1e-15
 * event for this law) or a full bracket makes the statistics NaN, and the job is simulated
 * again with stored terminal values (runSimulation): the same numbers, except the expected
 * shortfall's last digits, which that path sums in another order.
 */

const BINS = 4096;

export interface TerminalBrackets {
  /** x at the start of bin 0, and bins per unit of x. */
  readonly low: number;
  readonly scale: number;
  /** The region of each bin: even for gaps, odd (2k + 1) inside bracket k. */
  readonly regionOfBin: Uint8Array;
  /** Regions in all: 0 below bin 0, the last above bin BINS - 1. */
  readonly regions: number;
  readonly brackets: number;
  /** Room per block and bracket for the x inside it. */
  readonly capacity: number;
}

/** Where blocks leave their counts, return sums and bracket values (shared between threads). */
export interface TerminalBracketBuffers {
  /** [block][region] values. */
  readonly counts: Int32Array;
  /** [block][region][2] Neumaier sum and compensation of the returns V - 1. */
  readonly returnSums: Float64Array;
  /** [block][bracket] x found inside the bracket (may exceed capacity). */
  readonly filled: Int32Array;
  /** [block][bracket][capacity] the x themselves. */
  readonly values: Float64Array;
}

/**
 * Brackets around the `probabilities` quantiles of x_T for one asset, or undefined when
 * the job is too small to need them.
 */
export function terminalBracketsFor(
  simulations: number,
  drift: number,
  volatility: number,
  horizonYears: number,
  probabilities: readonly number[],
): TerminalBrackets | undefined {
  if (simulations < MIN_BRACKETED_SIMULATIONS || !(volatility > 0) || !(horizonYears > 0)) return undefined;
  const mean = (drift - 0.5 * volatility ** 2) * horizonYears;
  const sd = volatility * Math.sqrt(horizonYears);
  // Brackets in z, merged where they touch (several results ask for the same quantile).
  const intervals = [...new Set(probabilities)]
    .filter((p) => p > 0 && p < 1)
    .sort((a, b) => a - b)
    .map((p) => quantileBracket(p, simulations));
  const merged: number[][] = [];
  for (const [from, to] of intervals) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  if (merged.length === 0 || 2 * merged.length + 1 > 255) return undefined;
  const x = merged.flat().map((z) => mean + sd * z);
  const low = x[0];
  const scale = BINS / (x[x.length - 1] - x[0]);
  // A bin touching a bracket belongs to it (brackets only widen); the others to the gap.
  const regionOfBin = new Uint8Array(BINS);
  for (let bin = 0; bin < BINS; bin++) {
    const from = low + bin / scale;
    const to = low + (bin + 1) / scale;
    let region = 0;
    for (let b = 0; b < merged.length; b++) {
      if (to >= x[2 * b]) region = from <= x[2 * b + 1] ? 2 * b + 1 : 2 * b + 2;
    }
    regionOfBin[bin] = region;
  }
  for (let bin = 1; bin < BINS; bin++) if (regionOfBin[bin] < regionOfBin[bin - 1]) return undefined;
  let widest = 0;
  for (const [from, to] of merged) widest = Math.max(widest, normalCdf(to) - normalCdf(from));
  // Widening to whole bins adds at most two bins' worth of probability.
  const perBlock = BLOCK_SIZE * (widest + (2 * normalPdf(0)) / (scale * sd));
  return {
    low,
    scale,
    regionOfBin,
    regions: 2 * merged.length + 1,
    brackets: merged.length,
    capacity: bracketCapacity(perBlock),
  };
}

export function allocateTerminalBracketBuffers(spec: TerminalBrackets, blocks: number, shared: boolean): TerminalBracketBuffers {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  return {
    counts: new Int32Array(new Buffer(4 * blocks * spec.regions)),
    returnSums: new Float64Array(new Buffer(16 * blocks * spec.regions)),
    filled: new Int32Array(new Buffer(4 * blocks * spec.brackets)),
    values: new Float64Array(new Buffer(8 * blocks * spec.brackets * spec.capacity)),
  };
}

/**
 * Counts block `block`'s terminal log-prices logs[0..n) by region, sums the returns
 * portfolio[p] - 1 of each region and keeps the log-prices inside a bracket.
 */
export function recordBlockTerminal(spec: TerminalBrackets, out: TerminalBracketBuffers, block: number, logs: Float64Array, portfolio: Float64Array, n: number): void {
  const { low, scale, regionOfBin, regions, capacity } = spec;
  const top = regions - 1;
  const countsAt = block * regions;
  const { counts, returnSums, filled, values } = out;
  for (let p = 0; p < n; p++) {
    const x = logs[p];
    const t = (x - low) * scale;
    const region = t < 0 ? 0 : t >= BINS ? top : regionOfBin[t | 0];
    counts[countsAt + region]++;
    const r = portfolio[p] - 1;
    const at = 2 * (countsAt + region);
    const sum = returnSums[at];
    const s = sum + r;
    returnSums[at + 1] += Math.abs(sum) >= Math.abs(r) ? sum - s + r : r - s + sum;
    returnSums[at] = s;
    if (region & 1) {
      const slot = block * spec.brackets + (region >> 1);
      const k = filled[slot]++;
      if (k < capacity) values[slot * capacity + k] = x;
    }
  }
}

/**
 * What the terminal statistics need from the blocks' brackets, however they were gathered:
 * from one instance's buffers (terminalTotalsOf) or merged from shards (shards.ts). The
 * same totals give the same numbers.
 */
export interface TerminalTotals {
  /** Values per region, over every block. */
  readonly sizes: Float64Array;
  /** Blocks in all. */
  readonly blocks: number;
  /** Regions 0 .. summedRegions - 1 keep their per-block return sums. */
  readonly summedRegions: number;
  /** [block][region < summedRegions][2]: each block's Neumaier sum and compensation. */
  readonly returnSums: Float64Array;
  /** The x inside bracket b, gathered in block order, or null when a block overflowed its room. */
  bracketValues(bracket: number): Float64Array | null;
}

/** The totals of one instance's buffers (every region's per-block sums). */
export function terminalTotalsOf(spec: TerminalBrackets, out: TerminalBracketBuffers, blocks: number): TerminalTotals {
  const sizes = new Float64Array(spec.regions);
  for (let block = 0; block < blocks; block++) {
    for (let r = 0; r < spec.regions; r++) sizes[r] += out.counts[block * spec.regions + r];
  }
  return {
    sizes,
    blocks,
    summedRegions: spec.regions,
    returnSums: out.returnSums,
    bracketValues: (b) => gatherBracket(spec, out, 0, blocks, b, sizes[2 * b + 1]),
  };
}

/**
 * The x inside bracket b of blocks first .. first + blocks - 1, in block order (`size` of
 * them), or null when a block's share overflowed its room.
 */
export function gatherBracket(spec: TerminalBrackets, out: TerminalBracketBuffers, first: number, blocks: number, b: number, size: number): Float64Array | null {
  const { capacity, brackets } = spec;
  const values = new Float64Array(size);
  let at = 0;
  for (let block = first; block < first + blocks; block++) {
    const slot = block * brackets + b;
    const count = out.filled[slot];
    if (count > capacity) return null;
    values.set(out.values.subarray(slot * capacity, slot * capacity + count), at);
    at += count;
  }
  return values;
}

/**
 * How many regions keep per-block return sums when they must travel (shards): those up to
 * the bracket of the highest tail quantile `tail` (the expected shortfall sums the regions
 * below its rank's bracket), and the next gap and bracket for a rank that lands one over.
 */
export function summedRegionsFor(spec: TerminalBrackets, drift: number, volatility: number, horizonYears: number, tail: number): number {
  const mean = (drift - 0.5 * volatility ** 2) * horizonYears;
  const x = mean + volatility * Math.sqrt(horizonYears) * inverseNormalCdf(tail);
  const t = (x - spec.low) * spec.scale;
  const region = t < 0 ? 0 : t >= BINS ? spec.regions - 1 : spec.regionOfBin[t | 0];
  return Math.min(spec.regions, region + 3);
}

/** The blocks' regions summed: sizes, and where each rank falls. */
export class TerminalRegions {
  private readonly gathered = new Map<number, Float64Array | null>();

  constructor(private readonly totals: TerminalTotals) {}

  /** The region of rank `rank` (0-based) and the number of values in the regions below it. */
  place(rank: number): { region: number; before: number } {
    const sizes = this.totals.sizes;
    let before = 0;
    let region = 0;
    while (before + sizes[region] <= rank) before += sizes[region++];
    return { region, before };
  }

  /**
   * The values of bracket region `region` (~1% of the paths), gathered in block order, or
   * null when it is not a bracket or a block's share overflowed its room.
   */
  bracketValues(region: number): Float64Array | null {
    if (!(region & 1)) return null;
    const cached = this.gathered.get(region);
    if (cached !== undefined) return cached;
    const result = this.totals.bracketValues(region >> 1);
    this.gathered.set(region, result);
    return result;
  }

  /**
   * The order statistic of rank `rank`, or undefined when it is not inside a bracket: a
   * selection among the bracket's values (which it rearranges; they stay the same values).
   */
  orderStatistic(rank: number): number | undefined {
    const { region, before } = this.place(rank);
    const values = this.bracketValues(region);
    return values ? selectRanks(values, [rank - before])[0] : undefined;
  }

  /**
   * Sum and count of the returns at or below `q`, where the order statistic of rank `rank`
   * (at or below q, and the next one above it) lies inside a bracket: the regions below the
   * bracket whole, and the bracket's own returns up to q (`returnOf` maps x to V - 1).
   * Returns of later regions are taken to exceed q: one equal to it would need a log-price
   * within ~1e-16 of one in the bracket yet in another bin.
   */
  returnsUpTo(rank: number, q: number, returnOf: (x: number) => number): { sum: number; count: number } | undefined {
    const { region, before } = this.place(rank);
    const { blocks, summedRegions, returnSums } = this.totals;
    if (region > summedRegions) return undefined;
    const values = this.bracketValues(region);
    if (!values) return undefined;
    let sum = 0;
    let c = 0;
    const add = (r: number) => {
      const t = sum + r;
      c += Math.abs(sum) >= Math.abs(r) ? sum - t + r : r - t + sum;
      sum = t;
    };
    for (let block = 0; block < blocks; block++) {
      for (let r = 0; r < region; r++) {
        const at = 2 * (block * summedRegions + r);
        add(returnSums[at]);
        add(returnSums[at + 1]);
      }
    }
    let count = before;
    for (const x of values) {
      const r = returnOf(x);
      if (r <= q) {
        add(r);
        count++;
      }
    }
    return { sum: sum + c, count };
  }
}
