import { ExactSum } from '../../numerics/exactSum.js';
import { orderStatistics, quantilePosition } from '../../numerics/quantile.js';
import { BAND_PERCENTILES, TERMINAL_PERCENTILES, type OrderStatisticsOf, type ReturnsUpTo } from './statistics.js';
import { KEPT_VALUES_BUDGET } from './limits.js';
import type { SimulationPlan } from './simulation.js';

/**
 * Exact order statistics of a job's stored series (each asset's terminal price, the
 * portfolio's terminal value, each interior band point's value) without storing them: the
 * paths are simulated several times (a block's streams are keyed by (seed, block), so it
 * gives the same numbers every time), and each pass over every path narrows, for each pair
 * of ranks a percentile interpolates between, a closed window [lo, hi] of values holding
 * both:
 *
 * - a *count* pass counts the values of the window's series in `bins` bins evenly spread
 *   over [lo, hi], plus one below and one above, with each bin's least and greatest value;
 *   the running counts place both ranks, and the next window is [least of the lower rank's
 *   bin, greatest of the upper's] (the bins between hold nothing: the two ranks are
 *   neighbours). The bin of x is a non-decreasing function of x, so bins are intervals of
 *   values whoever computes them;
 * - a *keep* pass, once a window holds at most `maxKept` values, keeps them; the order
 *   statistics are then found among them (lo = hi means every value in it is lo: nothing
 *   is kept).
 *
 * The first windows come from a pilot: the job's first blocks (the same numbers wherever
 * they are simulated), their order statistics `pilotWidth` standard errors either side of
 * each wanted quantile. A rank outside them (a miss) only costs one more count pass.
 * Counts add, extremes take min and max, kept values are a set: every pass's partial
 * results merge exactly in any order, so shards give one instance's order statistics.
 *
 * The expected shortfall's tail (returns R = V - 1 at or below the VaR quantile q) is summed
 * exactly (ExactSum) during the keep pass of its rank pair: the returns of values below lo
 * (all in the tail: q >= fl(x_(below) - 1) >= fl(lo - 1)), those kept inside the window at or
 * below q, and those above hi whose return rounds to fl(hi - 1), which are in the tail only
 * when q equals it (R is non-decreasing in V but not one-to-one below V = 0.5).
 *
 * Memory: per pass, per rank pair, `bins` + 2 counts and extremes, or at most `maxKept`
 * values: bounded whatever the path count.
 */

export interface SelectionOptions {
  /** Bins of a count pass. @default 2^17 / rank pairs, within 256..4096 (a shard's counts stay ~3 MB) */
  readonly bins?: number;
  /** Most values a window keeps; more make another count pass. @default KEPT_VALUES_BUDGET / rank pairs */
  readonly maxKept?: number;
  /** Blocks of the pilot. @default 8 (32,768 paths) */
  readonly pilotBlocks?: number;
  /** Half-width of a pilot window, in standard errors of the pilot's quantile. @default 8 */
  readonly pilotWidth?: number;
}

/** The settings of a job's passes: `given` where set, else the defaults for its number of rank pairs. */
export function selectionSettings(pairs: number, given: SelectionOptions = {}): Required<SelectionOptions> {
  return {
    bins: given.bins ?? Math.min(4096, Math.max(256, Math.floor(2 ** 17 / pairs))),
    maxKept: given.maxKept ?? Math.max(1, Math.floor(KEPT_VALUES_BUDGET / pairs)),
    pilotBlocks: given.pilotBlocks ?? 8,
    pilotWidth: given.pilotWidth ?? 8,
  };
}

/**
 * The order statistics a percentile needs: ranks `below` and `above` of one series (0..assets-1
 * an asset's terminal prices, assets the portfolio's terminal values, assets + j interior
 * band point j), and whether the expected shortfall sums the tail up to it.
 */
export interface RankPair {
  readonly series: number;
  readonly probability: number;
  readonly below: number;
  readonly above: number;
  readonly tail: boolean;
}

/** The rank pairs every percentile of the result needs (shared pairs once). */
export function selectionTargets(plan: SimulationPlan, confidenceLevels: readonly number[]): RankPair[] {
  const n = plan.simulations;
  const interior = Math.max(0, plan.bandSteps.length - 2);
  const pairs: RankPair[] = [];
  const add = (series: number, probability: number, tail: boolean) => {
    const { below, above } = quantilePosition(n, probability);
    const same = pairs.findIndex((p) => p.series === series && p.below === below && p.above === above);
    if (same < 0) pairs.push({ series, probability, below, above, tail });
    else if (tail) pairs[same] = { ...pairs[same], tail };
  };
  for (let a = 0; a < plan.assets; a++) for (const q of Object.values(TERMINAL_PERCENTILES)) add(a, q, false);
  for (const c of confidenceLevels) add(plan.assets, 1 - c, true);
  for (const q of Object.values(BAND_PERCENTILES)) add(plan.assets, q, false);
  for (let j = 1; j <= interior; j++) for (const q of Object.values(BAND_PERCENTILES)) add(plan.assets + j, q, false);
  return pairs;
}

/** Number of series of a plan: assets, the portfolio, the interior band points. */
export function seriesCount(plan: SimulationPlan): number {
  return plan.assets + 1 + Math.max(0, plan.bandSteps.length - 2);
}

/** The values of series s over some paths (float32 for band points, as one instance stores them). */
export type SeriesValues = (series: number) => Float64Array | Float32Array;

/** A window of one rank pair in one pass. */
export interface Window {
  readonly lo: number;
  readonly hi: number;
  readonly mode: 'count' | 'keep';
}

/** What a pass does: one window per rank pair, null where the pair is resolved. */
export interface PassSpec {
  readonly pass: number;
  readonly bins: number;
  readonly windows: readonly (Window | null)[];
}

/** A count window's partial results: counts, least and greatest value per bin (bin 0 below lo, the last above hi). */
export interface WindowCounts {
  readonly kind: 'count';
  readonly counts: Float64Array;
  readonly least: Float64Array;
  readonly greatest: Float64Array;
}

/** A keep window's partial results. */
export interface WindowValues {
  readonly kind: 'keep';
  /** The values in [lo, hi] (none when lo = hi). */
  values: Float64Array;
  size: number;
  /** How many values are in [lo, hi]. */
  count: number;
  /** Tail pairs: exact sum of the returns of values below lo, and of those above hi whose return is fl(hi - 1). */
  readonly below: ExactSum | null;
  readonly tie: ExactSum | null;
  tieCount: number;
}

export type WindowPartial = WindowCounts | WindowValues | null;

/** One pass's partial results over some paths (a shard's, or merged). */
export class PassResults {
  readonly windows: WindowPartial[];

  constructor(readonly spec: PassSpec, private readonly pairs: readonly RankPair[], windows?: WindowPartial[]) {
    this.windows = windows ?? spec.windows.map((w, i) => (w === null ? null : emptyPartial(w, spec.bins, pairs[i].tail)));
  }

  /** Counts or keeps the values of `paths` paths (SeriesValues over them) for every open window. */
  scan(values: SeriesValues, paths: number): void {
    const { spec, pairs } = this;
    for (let i = 0; i < pairs.length; i++) {
      const w = spec.windows[i];
      const out = this.windows[i];
      if (!w || !out) continue;
      const x = values(pairs[i].series).subarray(0, paths);
      if (out.kind === 'count') countWindow(x, w, spec.bins, out);
      else keepWindow(x, w, out);
    }
  }

  /** Adds another part's results (exact: counts add, extremes compare, values and sums gather). */
  add(other: PassResults): void {
    for (let i = 0; i < this.windows.length; i++) {
      const mine = this.windows[i];
      const theirs = other.windows[i];
      if (mine === null || theirs === null) {
        if (mine !== theirs) throw new RangeError(`pass ${this.spec.pass}: window ${i} is open in one part only`);
        continue;
      }
      if (mine.kind === 'count' && theirs.kind === 'count') {
        for (let b = 0; b < mine.counts.length; b++) {
          mine.counts[b] += theirs.counts[b];
          if (theirs.least[b] < mine.least[b]) mine.least[b] = theirs.least[b];
          if (theirs.greatest[b] > mine.greatest[b]) mine.greatest[b] = theirs.greatest[b];
        }
      } else if (mine.kind === 'keep' && theirs.kind === 'keep') {
        for (let v = 0; v < theirs.size; v++) push(mine, theirs.values[v]);
        mine.count += theirs.count;
        mine.tieCount += theirs.tieCount;
        if (mine.below && theirs.below) mine.below.addSum(theirs.below);
        if (mine.tie && theirs.tie) mine.tie.addSum(theirs.tie);
      } else {
        throw new RangeError(`pass ${this.spec.pass}: window ${i} is of two kinds`);
      }
    }
  }

  /** Bytes held (typed arrays and sums): what a merge of this pass keeps. */
  heldBytes(): number {
    let bytes = 0;
    for (const w of this.windows) {
      if (w?.kind === 'count') bytes += w.counts.byteLength + w.least.byteLength + w.greatest.byteLength;
      else if (w) bytes += w.values.byteLength + (w.below ? 2 * w.below.chunks.byteLength : 0);
    }
    return bytes;
  }
}

function emptyPartial(w: Window, bins: number, tail: boolean): WindowPartial {
  if (w.mode === 'count') {
    return { kind: 'count', counts: new Float64Array(bins + 2), least: new Float64Array(bins + 2).fill(Infinity), greatest: new Float64Array(bins + 2).fill(-Infinity) };
  }
  return { kind: 'keep', values: new Float64Array(0), size: 0, count: 0, below: tail ? new ExactSum() : null, tie: tail ? new ExactSum() : null, tieCount: 0 };
}

function countWindow(x: Float64Array | Float32Array, w: Window, bins: number, out: WindowCounts): void {
  const { lo, hi } = w;
  const width = hi - lo;
  const last = bins + 1;
  const { counts, least, greatest } = out;
  for (let p = 0; p < x.length; p++) {
    const v = x[p];
    // (v - lo) / width is in [0, 1] and non-decreasing in v, so is the bin.
    const bin = v < lo ? 0 : v > hi ? last : width > 0 ? 1 + Math.min(bins - 1, Math.floor(((v - lo) / width) * bins)) : 1;
    counts[bin]++;
    if (v < least[bin]) least[bin] = v;
    if (v > greatest[bin]) greatest[bin] = v;
  }
}

function keepWindow(x: Float64Array | Float32Array, w: Window, out: WindowValues): void {
  const { lo, hi } = w;
  const store = hi > lo;
  const tieReturn = hi - 1;
  for (let p = 0; p < x.length; p++) {
    const v = x[p];
    if (v < lo) {
      out.below?.add(v - 1);
    } else if (v > hi) {
      if (out.tie && v - 1 === tieReturn) {
        out.tie.add(tieReturn);
        out.tieCount++;
      }
    } else {
      out.count++;
      if (store) push(out, v);
    }
  }
}

function push(out: WindowValues, v: number): void {
  if (out.size === out.values.length) {
    const grown = new Float64Array(Math.max(1024, 2 * out.size));
    grown.set(out.values);
    out.values = grown;
  }
  out.values[out.size++] = v;
}

/** A rank pair's state in the merge: its window and, once resolved, its order statistics. */
interface PairState {
  lo: number;
  hi: number;
  /** Values of the series below lo (known after a count pass). */
  before: number;
  count: number;
  /** The order statistics x_(below), x_(above), once resolved. */
  resolved: [number, number] | null;
  /** Tail pairs, once kept: the sorted window values and the sums outside the window. */
  tail: { values: Float64Array; below: ExactSum; tie: ExactSum; tieCount: number } | null;
}

/**
 * The merge's side of the passes: the first pass's windows (from the pilot), then after
 * each merged pass the next one's, until every rank pair is resolved; then the order
 * statistics and the expected shortfall's tail sums for the statistics tasks.
 */
export class Selection {
  private readonly states: PairState[];
  private current: PassSpec | null;
  readonly options: Required<SelectionOptions>;

  constructor(
    readonly pairs: readonly RankPair[],
    private readonly n: number,
    first: PassSpec,
    options: SelectionOptions = {},
  ) {
    this.options = selectionSettings(pairs.length, options);
    this.states = pairs.map(() => ({ lo: -Infinity, hi: Infinity, before: 0, count: n, resolved: null, tail: null }));
    this.current = first;
  }

  /** The next pass to run, or null when every pair is resolved. */
  get next(): PassSpec | null {
    return this.current;
  }

  /**
   * Takes the merged results of the current pass (every path's) and plans the next.
   * @throws RangeError when the results do not add up to the job's paths (a bug or a foreign part)
   */
  absorb(results: PassResults): void {
    const spec = this.current;
    if (!spec || results.spec.pass !== spec.pass) throw new RangeError('pass results of another pass');
    const { bins, maxKept } = this.options;
    const windows: (Window | null)[] = [];
    this.pairs.forEach((pair, i) => {
      const state = this.states[i];
      const part = results.windows[i];
      if (!part) return void windows.push(null);
      if (part.kind === 'count') {
        let total = 0;
        for (const c of part.counts) total += c;
        if (total !== this.n) throw new RangeError(`pass ${spec.pass}: rank pair ${i} counted ${total} values, not ${this.n}`);
        let before = 0;
        let bin = 0;
        while (before + part.counts[bin] <= pair.below) before += part.counts[bin++];
        let upper = bin;
        let through = before + part.counts[bin];
        while (through <= pair.above) through += part.counts[++upper];
        state.lo = part.least[bin];
        state.hi = part.greatest[upper];
        state.before = before;
        state.count = through - before;
        if (state.lo === state.hi && !pair.tail) {
          state.resolved = [state.lo, state.lo];
          return void windows.push(null);
        }
        windows.push({ lo: state.lo, hi: state.hi, mode: state.lo === state.hi || state.count <= maxKept ? 'keep' : 'count' });
      } else {
        if (part.count !== state.count) throw new RangeError(`pass ${spec.pass}: rank pair ${i} kept ${part.count} values, its window holds ${state.count}`);
        const sorted = part.values.slice(0, part.size).sort();
        const at = (rank: number) => (state.lo === state.hi ? state.lo : sorted[rank - state.before]);
        state.resolved = [at(pair.below), at(pair.above)];
        if (pair.tail) state.tail = { values: sorted, below: part.below!, tie: part.tie!, tieCount: part.tieCount };
        windows.push(null);
      }
    });
    this.current = windows.some((w) => w !== null) ? { pass: spec.pass + 1, bins, windows } : null;
  }

  /** Order statistics of series s at any of its pairs' ranks. */
  orderStatisticsOf(series: number): OrderStatisticsOf {
    return (ranks) => {
      const out = new Float64Array(ranks.length);
      for (let r = 0; r < ranks.length; r++) {
        const i = this.pairs.findIndex((p) => p.series === series && (p.below === ranks[r] || p.above === ranks[r]));
        const resolved = i < 0 ? null : this.states[i].resolved;
        if (!resolved) return undefined;
        out[r] = this.pairs[i].below === ranks[r] ? resolved[0] : resolved[1];
      }
      return out;
    };
  }

  /** The expected shortfall's tails of the portfolio (series `series`), summed exactly. */
  returnsUpTo(series: number): ReturnsUpTo {
    return (quantiles, ranks) => {
      const tails: { sum: number; count: number }[] = [];
      for (let l = 0; l < quantiles.length; l++) {
        const i = this.pairs.findIndex((p) => p.series === series && p.tail && p.below === ranks[l]);
        const state = i < 0 ? undefined : this.states[i];
        if (!state?.tail) return undefined;
        const q = quantiles[l];
        const sum = new ExactSum();
        sum.addSum(state.tail.below);
        let count = state.before;
        if (state.lo === state.hi) {
          if (state.lo - 1 <= q) {
            sum.addProduct(state.lo - 1, state.count);
            count += state.count;
          }
        } else {
          for (const v of state.tail.values) {
            const r = v - 1;
            if (r <= q) {
              sum.add(r);
              count++;
            }
          }
        }
        if (q === state.hi - 1) {
          sum.addSum(state.tail.tie);
          count += state.tail.tieCount;
        }
        tails.push({ sum: sum.value(), count });
      }
      return tails;
    };
  }

  /** Bytes the merge holds for the selection: kept values and sums (the passes' counts are the PassResults'). */
  heldBytes(): number {
    return this.states.reduce((bytes, s) => bytes + (s.tail ? s.tail.values.byteLength + 2 * s.tail.below.chunks.byteLength : 0), 0);
  }
}

/**
 * The first pass: count windows around the pilot's order statistics (`pilot` gives each
 * series' values over the pilot's paths).
 */
export function firstPass(pairs: readonly RankPair[], pilot: SeriesValues, options: SelectionOptions = {}): PassSpec {
  const { bins, pilotWidth } = selectionSettings(pairs.length, options);
  const bySeries = new Map<number, number[]>();
  pairs.forEach((p, i) => bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), i]));
  const windows: Window[] = new Array(pairs.length);
  for (const [series, indices] of bySeries) {
    const values = Float64Array.from(pilot(series));
    const m = values.length;
    const ranks = indices.flatMap((i) => {
      const q = pairs[i].probability;
      const center = q * (m - 1);
      const half = Math.ceil(pilotWidth * Math.sqrt(q * (1 - q) * m)) + 1;
      return [Math.max(0, Math.floor(center) - half), Math.min(m - 1, Math.ceil(center) + half)];
    });
    const stats = orderStatistics(values, ranks);
    indices.forEach((i, k) => (windows[i] = { lo: stats[2 * k], hi: stats[2 * k + 1], mode: 'count' }));
  }
  return { pass: 1, bins, windows };
}
