import { createHash } from 'node:crypto';
import * as z from 'zod';
import { BAND_EDGES } from '../../numerics/random/normalStepKernel.js';
import { BAND_BRACKETS, gatherBandBracket, sumAtOrAbove, type BandTotals } from './bandBrackets.js';
import { MOMENT_FIELDS } from './blockMoments.js';
import { BLOCK_SIZE, MAX_SHARDS, MAX_SIMULATIONS } from './limits.js';
import { SAMPLE_PATHS, blockCount, blockRange, type BlockRange, type SimulationBuffers, type SimulationPlan } from './simulation.js';
import { readStatistics, runStatisticsTask, statisticsLayout, type JobStatistics, type StatisticsInputs } from './statisticsTasks.js';
import { gatherBracket, summedRegionsFor, type TerminalTotals } from './terminalBrackets.js';
import { ExactSum } from '../../numerics/exactSum.js';
import { PassResults, type PassSpec, type RankPair, type Selection, type WindowPartial } from './selectionPasses.js';

/**
 * A job split into shards: each shard simulates a run of consecutive blocks (the blocks'
 * generators are keyed by (seed, block index), so a block gives the same numbers wherever it
 * runs) and leaves a partial state; the merge puts the partial states together into exactly
 * what one instance's statistics tasks read (statisticsTasks.StatisticsInputs), so the
 * result is bit for bit one instance's, whatever the shard count:
 *
 * - every block's moments, in block order (combineBlockMoments replays them as one
 *   instance does);
 * - stores (small jobs, several symbols): the shard's slice of each store, put in place;
 * - one asset's brackets: counts summed (integers, exact in any order), the values inside
 *   each bracket gathered in block order (selection then finds the same order statistic),
 *   and per block the return sums of the regions the expected shortfall can sum, replayed
 *   in block order as one instance does;
 * - the sample paths from the shard holding block 0.
 *
 * The merge's memory is that of the job's per-block numbers (about 200 bytes a block for
 * one asset) plus the brackets' few values, or one instance's stores for several symbols.
 */

/**
 * The blocks of each of `shards` shards, split as evenly as whole blocks allow (at most
 * one shard per block: a job with fewer blocks gets fewer shards).
 */
export function shardRanges(plan: SimulationPlan, shards: number): BlockRange[] {
  const blocks = blockCount(plan);
  const count = Math.max(1, Math.min(shards, blocks));
  return Array.from({ length: count }, (_, i) => {
    const first = Math.floor((i * blocks) / count);
    const next = Math.floor(((i + 1) * blocks) / count);
    return blockRange(plan, first, next - first);
  });
}

/**
 * Names the plan, its confidence levels, whether it uses brackets and how many shards split
 * it: a partial state is merged only into the split of the job that made it.
 */
export function planFingerprint(plan: SimulationPlan, confidenceLevels: readonly number[], brackets: boolean, shards = 1, selection?: readonly number[]): string {
  const hash = createHash('sha256');
  const numbers = [
    plan.seed, plan.simulations, plan.timeSteps, plan.horizonYears, plan.assets,
    ...plan.initialPrices, ...plan.drift, ...plan.volatility, ...plan.cholesky, ...plan.weights, ...plan.bandSteps,
    plan.bracketLaw?.drift ?? NaN, plan.bracketLaw?.volatility ?? NaN, ...confidenceLevels, brackets ? 1 : 0, shards,
    // Selection passes (their settings): a partial state of counts, not of stores.
    ...(selection ? [-1, ...selection] : []),
  ];
  hash.update(Buffer.from(Float64Array.from(numbers).buffer));
  return hash.digest('hex').slice(0, 32);
}

/** What one shard leaves for the merge. */
export interface ShardPartial {
  readonly fingerprint: string;
  readonly shard: number;
  readonly shards: number;
  readonly range: BlockRange;
  /** [block][series][MOMENT_FIELDS] for the range's blocks. */
  readonly blockMoments: Float64Array;
  /** The sample paths, from the shard holding block 0; empty otherwise. */
  readonly samplePaths: Float64Array;
  /** The range's slices of the stores (empty where brackets replace them). */
  readonly terminalPrices: Float64Array;
  readonly portfolioTerminal: Float64Array;
  readonly bandValues: Float32Array;
  readonly terminal: TerminalPartial | null;
  readonly band: BandPartial | null;
  /** With selection passes (several symbols beyond one instance's stores): the first pass's counts, and no stores. */
  readonly selection: PassResults | null;
}

export interface TerminalPartial {
  /** Values per region over the range's blocks. */
  readonly sizes: Float64Array;
  readonly summedRegions: number;
  /** [block][region < summedRegions][2] as in the buffers. */
  readonly returnSums: Float64Array;
  /** Per bracket, its x in block order, or null when a block overflowed. */
  readonly brackets: readonly (Float64Array | null)[];
}

export interface BandPartial {
  /** [point][edge] counts at or above each edge over the range's blocks. */
  readonly atOrAbove: Float64Array;
  /** [point][bracket] the values inside, in block order (float32, as stored), or null when a block overflowed. */
  readonly brackets: readonly (Float32Array | null)[];
}

/**
 * The partial state of shard `shard` of `shards` from its simulated buffers
 * (parallelRunner.runShardSimulation with `range`).
 */
export function shardPartial(
  plan: SimulationPlan,
  confidenceLevels: readonly number[],
  shard: number,
  shards: number,
  buffers: SimulationBuffers,
  fingerprint: string,
  selection: PassResults | null = null,
): ShardPartial {
  const range = buffers.range ?? blockRange(plan, 0, blockCount(plan));
  let terminal: TerminalPartial | null = null;
  if (buffers.terminalBrackets) {
    const { spec, buffers: out } = buffers.terminalBrackets;
    const sizes = new Float64Array(spec.regions);
    for (let block = 0; block < range.blocks; block++) {
      for (let r = 0; r < spec.regions; r++) sizes[r] += out.counts[block * spec.regions + r];
    }
    const law = plan.bracketLaw ?? { drift: plan.drift[0], volatility: plan.volatility[0] };
    const summedRegions = summedRegionsFor(spec, law.drift, law.volatility, plan.horizonYears, Math.max(...confidenceLevels.map((c) => 1 - c)));
    const returnSums = new Float64Array(range.blocks * summedRegions * 2);
    for (let block = 0; block < range.blocks; block++) {
      returnSums.set(out.returnSums.subarray(2 * block * spec.regions, 2 * (block * spec.regions + summedRegions)), 2 * block * summedRegions);
    }
    const brackets = Array.from({ length: spec.brackets }, (_, b) => gatherBracket(spec, out, 0, range.blocks, b, sizes[2 * b + 1]));
    terminal = { sizes, summedRegions, returnSums, brackets };
  }
  let band: BandPartial | null = null;
  if (buffers.bandBrackets) {
    const { spec, buffers: out } = buffers.bandBrackets;
    const atOrAbove = new Float64Array(spec.points * BAND_EDGES);
    const brackets: (Float32Array | null)[] = [];
    for (let j = 1; j <= spec.points; j++) {
      const counts = sumAtOrAbove(spec, out, 0, range.blocks, j);
      atOrAbove.set(counts, (j - 1) * BAND_EDGES);
      for (let b = 0; b < BAND_BRACKETS; b++) {
        const values = gatherBandBracket(spec, out, 0, range.blocks, j, b, counts[2 * b] - counts[2 * b + 1]);
        brackets.push(values === null ? null : Float32Array.from(values));
      }
    }
    band = { atOrAbove, brackets };
  }
  return {
    fingerprint,
    shard,
    shards,
    range,
    blockMoments: buffers.blockMoments,
    samplePaths: range.first === 0 ? buffers.samplePaths : new Float64Array(0),
    terminalPrices: buffers.terminalPrices,
    portfolioTerminal: buffers.portfolioTerminal,
    bandValues: buffers.bandValues,
    terminal,
    band,
    selection,
  };
}

/** A corrupt or foreign partial state: a bug or a different job, never a fault that passes. */
export class ShardMismatchError extends Error {}

/**
 * Puts shards' partial states together, in any order (each at its blocks' place; a shard
 * given twice is counted once), then computes the job's statistics as one instance would.
 */
export class ShardMerger {
  private readonly stride: number;
  private readonly blockMoments: Float64Array;
  private readonly samplePaths: Float64Array;
  private terminalPrices: Float64Array | undefined;
  private portfolioTerminal: Float64Array | undefined;
  private bandValues: Float32Array | undefined;
  private readonly partials: (ShardPartial | undefined)[];
  private returnSums: Float64Array | undefined;
  /** With selection passes: the first pass's results, summed shard by shard. */
  private readonly firstPass: PassResults | undefined;

  /**
   * @param selection the rank pairs and first pass of a job whose shards count instead of storing (selectionPasses.ts)
   */
  constructor(
    private readonly plan: SimulationPlan,
    private readonly confidenceLevels: readonly number[],
    private readonly ranges: readonly BlockRange[],
    private readonly fingerprint: string,
    selection?: { readonly pairs: readonly RankPair[]; readonly first: PassSpec },
  ) {
    this.stride = (plan.assets + 1) * MOMENT_FIELDS;
    this.blockMoments = new Float64Array(blockCount(plan) * this.stride);
    this.samplePaths = new Float64Array(Math.min(SAMPLE_PATHS, plan.simulations) * plan.bandSteps.length);
    this.partials = ranges.map(() => undefined);
    this.firstPass = selection && new PassResults(selection.first, selection.pairs);
  }

  /** The first selection pass's results over the shards merged so far. */
  get firstPassResults(): PassResults {
    if (!this.firstPass) throw new ShardMismatchError('This job keeps stores: it has no selection passes.');
    return this.firstPass;
  }

  /** Bytes the merge holds: per-block numbers, sample paths, stores, the first pass's counts. */
  heldBytes(): number {
    const arrays = [this.blockMoments, this.samplePaths, this.terminalPrices, this.portfolioTerminal, this.bandValues, this.returnSums];
    return arrays.reduce((bytes, a) => bytes + (a?.byteLength ?? 0), 0) + (this.firstPass?.heldBytes() ?? 0);
  }

  /** Shards merged so far. */
  get merged(): number {
    return this.partials.filter((p) => p !== undefined).length;
  }

  /** Whether shard `shard` is merged. */
  has(shard: number): boolean {
    return this.partials[shard] !== undefined;
  }

  /**
   * Merges one shard's partial state; a second copy of a merged shard is ignored.
   * @throws ShardMismatchError when it belongs to another job or its numbers do not fit its range
   */
  add(partial: ShardPartial): void {
    const { plan } = this;
    const range = this.ranges[partial.shard];
    const mismatch = (what: string) => new ShardMismatchError(`Shard ${partial.shard} of ${partial.shards}: ${what}.`);
    if (partial.fingerprint !== this.fingerprint) throw mismatch('its partial state belongs to another job (fingerprint differs)');
    if (partial.shards !== this.ranges.length || !range) throw mismatch(`the job has ${this.ranges.length} shards`);
    if (partial.range.first !== range.first || partial.range.blocks !== range.blocks || partial.range.paths !== range.paths) {
      throw mismatch(`its blocks are ${partial.range.first}+${partial.range.blocks}, expected ${range.first}+${range.blocks}`);
    }
    if (this.partials[partial.shard]) return;
    if (partial.blockMoments.length !== range.blocks * this.stride) throw mismatch('its block moments do not fit its blocks');
    if (Boolean(partial.selection) !== Boolean(this.firstPass)) throw mismatch(this.firstPass ? 'it keeps stores; the job counts in selection passes' : 'it counts in selection passes; the job keeps stores');
    if (partial.selection && !sameSpec(partial.selection.spec, this.firstPass!.spec)) throw mismatch('its first selection pass has other windows');
    const paths = range.paths;
    const interior = Math.max(0, plan.bandSteps.length - 2);
    const from = range.first * BLOCK_SIZE;
    const n = plan.simulations;
    if (partial.selection) {
      this.firstPass!.add(partial.selection);
    } else if (!partial.terminal) {
      if (n > MAX_SIMULATIONS) throw mismatch(`it keeps terminal values, which the merge cannot hold for ${n} paths (limit ${MAX_SIMULATIONS})`);
      if (partial.terminalPrices.length !== paths * plan.assets || partial.portfolioTerminal.length !== paths) throw mismatch('its terminal values do not fit its paths');
      this.terminalPrices ??= new Float64Array(n * plan.assets);
      this.portfolioTerminal ??= new Float64Array(n);
      for (let a = 0; a < plan.assets; a++) this.terminalPrices.set(partial.terminalPrices.subarray(a * paths, (a + 1) * paths), a * n + from);
      this.portfolioTerminal.set(partial.portfolioTerminal, from);
    }
    if (!partial.band && !partial.selection) {
      if (partial.bandValues.length !== paths * interior) throw mismatch('its band values do not fit its paths');
      this.bandValues ??= new Float32Array(n * interior);
      for (let j = 0; j < interior; j++) this.bandValues.set(partial.bandValues.subarray(j * paths, (j + 1) * paths), j * n + from);
    }
    if (partial.terminal) {
      const { summedRegions, returnSums } = partial.terminal;
      if (returnSums.length !== range.blocks * summedRegions * 2) throw mismatch('its return sums do not fit its blocks');
      this.returnSums ??= new Float64Array(blockCount(plan) * summedRegions * 2);
      this.returnSums.set(returnSums, range.first * summedRegions * 2);
    }
    this.blockMoments.set(partial.blockMoments, range.first * this.stride);
    if (range.first === 0) this.samplePaths.set(partial.samplePaths.subarray(0, this.samplePaths.length));
    // Kept for finish(): the brackets' counts and values only; the per-block numbers and
    // stores are in place above, and holding them twice would double the merge's memory.
    const none = new Float64Array(0);
    this.partials[partial.shard] = {
      ...partial,
      blockMoments: none,
      samplePaths: none,
      terminalPrices: none,
      portfolioTerminal: none,
      bandValues: new Float32Array(0),
      terminal: partial.terminal && { ...partial.terminal, returnSums: none },
      selection: null,
    };
  }

  /**
   * The job's statistics (NaN where the brackets missed, as runSimulation's tasks leave
   * them) and sample paths, once every shard is merged.
   * @param selection the job's selection passes, all run (a job whose shards count instead of storing)
   */
  finish(selection?: Selection): { readonly statistics: Float64Array; readonly samplePaths: Float64Array; readonly bracketed: boolean } {
    const partials = this.partials.map((p, shard) => {
      if (!p) throw new ShardMismatchError(`Shard ${shard} of ${this.partials.length} has not been merged.`);
      return p;
    });
    if (this.firstPass && (!selection || selection.next !== null)) throw new ShardMismatchError('The selection passes have not all been run.');
    const { plan } = this;
    const first = partials[0];
    const inputs: StatisticsInputs = {
      blockMoments: this.blockMoments,
      terminalPrices: this.terminalPrices ?? new Float64Array(0),
      portfolioTerminal: this.portfolioTerminal ?? new Float64Array(0),
      bandValues: this.bandValues ?? new Float32Array(0),
      ...(first.terminal && { terminal: () => this.terminalTotals(partials) }),
      ...(first.band && { band: this.bandTotals(partials) }),
      ...(selection && { selected: { orderStatisticsOf: (series: number) => selection.orderStatisticsOf(series), returnsUpTo: (series: number) => selection.returnsUpTo(series) } }),
    };
    const layout = statisticsLayout(plan, this.confidenceLevels.length);
    const statistics = new Float64Array(layout.length);
    for (let task = 0; task < layout.tasks; task++) runStatisticsTask(task, plan, inputs, this.confidenceLevels, layout, statistics);
    return { statistics, samplePaths: this.samplePaths, bracketed: first.terminal !== null || first.band !== null };
  }

  /** The job's statistics objects from finish()'s numbers. */
  read(statistics: Float64Array): JobStatistics {
    return readStatistics(statisticsLayout(this.plan, this.confidenceLevels.length), this.confidenceLevels, statistics);
  }

  private terminalTotals(partials: readonly ShardPartial[]): TerminalTotals {
    const parts = partials.map((p) => p.terminal!);
    const sizes = new Float64Array(parts[0].sizes.length);
    for (const part of parts) part.sizes.forEach((count, r) => (sizes[r] += count));
    return {
      sizes,
      blocks: blockCount(this.plan),
      summedRegions: parts[0].summedRegions,
      returnSums: this.returnSums!,
      bracketValues: (b) => concatenate(parts.map((part) => part.brackets[b])),
    };
  }

  private bandTotals(partials: readonly ShardPartial[]): BandTotals {
    const parts = partials.map((p) => p.band!);
    return {
      atOrAbove: (j) => {
        const total = new Float64Array(BAND_EDGES);
        for (const part of parts) for (let i = 0; i < BAND_EDGES; i++) total[i] += part.atOrAbove[(j - 1) * BAND_EDGES + i];
        return total;
      },
      bracketValues: (j, b, size) => {
        const values = concatenate(parts.map((part) => part.brackets[(j - 1) * BAND_BRACKETS + b]));
        return values && values.length === size ? values : null;
      },
    };
  }
}

/** The arrays one after another (as float64), or null when one of them is null. */
function concatenate(arrays: readonly (Float64Array | Float32Array | null | undefined)[]): Float64Array | null {
  let length = 0;
  for (const a of arrays) {
    if (!a) return null;
    length += a.length;
  }
  const out = new Float64Array(length);
  let at = 0;
  for (const a of arrays as (Float64Array | Float32Array)[]) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

// ---- Wire format of a partial state: JSON with little-endian typed arrays in base64. ----

const FORMAT = 'montecarlo-shard/1';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const partialSchema = z
  .object({
    format: z.literal(FORMAT),
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    shard: z.number().int().min(0),
    shards: z.number().int().min(1).max(MAX_SHARDS),
    first: z.number().int().min(0),
    blocks: z.number().int().min(1),
    paths: z.number().int().min(1),
    block_moments: base64,
    sample_paths: base64,
    terminal_prices: base64,
    portfolio_terminal: base64,
    band_values: base64,
    terminal: z
      .object({ sizes: base64, summed_regions: z.number().int().min(0), return_sums: base64, brackets: z.array(base64.nullable()) })
      .strict()
      .nullable(),
    band: z.object({ at_or_above: base64, brackets: z.array(base64.nullable()) }).strict().nullable(),
    selection: z.lazy(() => passResultsSchema).nullable().optional(),
  })
  .strict()
  .refine((p) => p.shard < p.shards, 'shard must be below shards');

/** A partial state as stored (create-only, one object per shard). */
export function serializePartial(partial: ShardPartial): string {
  return JSON.stringify({
    format: FORMAT,
    fingerprint: partial.fingerprint,
    shard: partial.shard,
    shards: partial.shards,
    first: partial.range.first,
    blocks: partial.range.blocks,
    paths: partial.range.paths,
    block_moments: toBase64(partial.blockMoments),
    sample_paths: toBase64(partial.samplePaths),
    terminal_prices: toBase64(partial.terminalPrices),
    portfolio_terminal: toBase64(partial.portfolioTerminal),
    band_values: toBase64(partial.bandValues),
    terminal: partial.terminal && {
      sizes: toBase64(partial.terminal.sizes),
      summed_regions: partial.terminal.summedRegions,
      return_sums: toBase64(partial.terminal.returnSums),
      brackets: partial.terminal.brackets.map((b) => (b === null ? null : toBase64(b))),
    },
    band: partial.band && { at_or_above: toBase64(partial.band.atOrAbove), brackets: partial.band.brackets.map((b) => (b === null ? null : toBase64(b))) },
    ...(partial.selection && { selection: passResultsJson(partial.selection) }),
  });
}

/**
 * A stored partial state, validated.
 * @throws ShardMismatchError naming what is wrong
 */
export function parsePartial(body: string): ShardPartial {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ShardMismatchError('A shard partial state is not JSON.');
  }
  const parsed = partialSchema.safeParse(json);
  if (!parsed.success) throw new ShardMismatchError(`A shard partial state is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
  const p = parsed.data;
  return {
    fingerprint: p.fingerprint,
    shard: p.shard,
    shards: p.shards,
    range: { first: p.first, blocks: p.blocks, paths: p.paths },
    blockMoments: float64(p.block_moments),
    samplePaths: float64(p.sample_paths),
    terminalPrices: float64(p.terminal_prices),
    portfolioTerminal: float64(p.portfolio_terminal),
    bandValues: float32(p.band_values),
    terminal: p.terminal && {
      sizes: float64(p.terminal.sizes),
      summedRegions: p.terminal.summed_regions,
      returnSums: float64(p.terminal.return_sums),
      brackets: p.terminal.brackets.map((b) => (b === null ? null : float64(b))),
    },
    band: p.band && { atOrAbove: float64(p.band.at_or_above), brackets: p.band.brackets.map((b) => (b === null ? null : float32(b))) },
    selection: p.selection ? passResultsOf(p.selection) : null,
  };
}

// ---- Selection passes on the wire (the first pass inside a shard's state; later passes on their own). ----

const PASS_FORMAT = 'montecarlo-shard-pass/1';

const passResultsSchema = z
  .object({
    spec: base64,
    windows: z.array(
      z.union([
        z.null(),
        z.object({ used: base64, counts: base64, least: base64, greatest: base64 }).strict(),
        z.object({ values: base64, count: z.number().int().min(0), below: base64.nullable(), tie: base64.nullable(), tie_count: z.number().int().min(0) }).strict(),
      ]),
    ),
  })
  .strict();

const passPartialSchema = z
  .object({ format: z.literal(PASS_FORMAT), fingerprint: z.string().regex(/^[0-9a-f]{32}$/), shard: z.number().int().min(0), shards: z.number().int().min(1).max(MAX_SHARDS), results: passResultsSchema })
  .strict();

/** A pass's windows as numbers: [pass, bins, windows, then per window open, keep, lo, hi]. */
function specNumbers(spec: PassSpec): Float64Array {
  const out = [spec.pass, spec.bins, spec.windows.length];
  for (const w of spec.windows) out.push(w ? 1 : 0, w?.mode === 'keep' ? 1 : 0, w?.lo ?? 0, w?.hi ?? 0);
  return Float64Array.from(out);
}

function specOf(numbers: Float64Array): PassSpec {
  const [pass, bins, count] = numbers;
  if (!(Number.isInteger(pass) && pass >= 1 && Number.isInteger(bins) && bins >= 1 && numbers.length === 3 + 4 * count)) {
    throw new ShardMismatchError('A shard partial state holds a malformed selection pass.');
  }
  const windows = Array.from({ length: count }, (_, i) => {
    const [open, keep, lo, hi] = numbers.subarray(3 + 4 * i, 7 + 4 * i);
    return open === 1 ? { lo, hi, mode: keep === 1 ? ('keep' as const) : ('count' as const) } : null;
  });
  return { pass, bins, windows };
}

/** Whether two passes have the same windows (the same pass of the same job). */
export function sameSpec(a: PassSpec, b: PassSpec): boolean {
  const x = specNumbers(a);
  const y = specNumbers(b);
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

function sumNumbers(sum: ExactSum | null): string | null {
  if (!sum) return null;
  const { chunks, special } = sum.state();
  return toBase64(Float64Array.from([...chunks, special]));
}

function sumOf(text: string | null): ExactSum | null {
  if (text === null) return null;
  const numbers = float64(text);
  try {
    return new ExactSum(numbers.subarray(0, numbers.length - 1), numbers[numbers.length - 1]);
  } catch (error) {
    throw new ShardMismatchError(`A shard partial state holds a malformed exact sum: ${(error as Error).message}.`);
  }
}

function passResultsJson(results: PassResults): z.infer<typeof passResultsSchema> {
  return {
    spec: toBase64(specNumbers(results.spec)),
    windows: results.windows.map((w: WindowPartial) => {
      if (w === null) return null;
      if (w.kind === 'count') {
        // Only the bins holding values (a shard of a few blocks fills few of them).
        const used = Float64Array.from(w.counts.keys()).filter((b) => w.counts[b] > 0);
        const pick = (a: Float64Array) => toBase64(used.map((b) => a[b]));
        return { used: toBase64(used), counts: pick(w.counts), least: pick(w.least), greatest: pick(w.greatest) };
      }
      return { values: toBase64(w.values.subarray(0, w.size)), count: w.count, below: sumNumbers(w.below), tie: sumNumbers(w.tie), tie_count: w.tieCount };
    }),
  };
}

function passResultsOf(json: z.infer<typeof passResultsSchema>): PassResults {
  const spec = specOf(float64(json.spec));
  if (json.windows.length !== spec.windows.length) throw new ShardMismatchError('A shard partial state holds selection results that do not fit their pass.');
  const windows = json.windows.map((w, i): WindowPartial => {
    const open = spec.windows[i];
    if (w === null || open === null) {
      if (w !== open) throw new ShardMismatchError('A shard partial state holds selection results that do not fit their pass.');
      return null;
    }
    if ('counts' in w) {
      const used = float64(w.used);
      const [usedCounts, usedLeast, usedGreatest] = [float64(w.counts), float64(w.least), float64(w.greatest)];
      const fits = used.every((b, i) => Number.isInteger(b) && b >= 0 && b < spec.bins + 2 && (i === 0 || b > used[i - 1]));
      if (open.mode !== 'count' || !fits || usedCounts.length !== used.length || usedLeast.length !== used.length || usedGreatest.length !== used.length) {
        throw new ShardMismatchError('A shard partial state holds selection counts that do not fit their pass.');
      }
      const counts = new Float64Array(spec.bins + 2);
      const least = new Float64Array(spec.bins + 2).fill(Infinity);
      const greatest = new Float64Array(spec.bins + 2).fill(-Infinity);
      used.forEach((b, i) => {
        counts[b] = usedCounts[i];
        least[b] = usedLeast[i];
        greatest[b] = usedGreatest[i];
      });
      return { kind: 'count', counts, least, greatest };
    }
    const values = float64(w.values);
    if (open.mode !== 'keep') throw new ShardMismatchError('A shard partial state holds kept values for a count window.');
    return { kind: 'keep', values, size: values.length, count: w.count, below: sumOf(w.below), tie: sumOf(w.tie), tieCount: w.tie_count };
  });
  return new PassResults(spec, [], windows);
}

/** A pass's windows as stored for shard tasks of that pass (the merge plans them; any instance runs them). */
export function serializePassSpec(spec: PassSpec): string {
  return JSON.stringify({ format: PASS_FORMAT, spec: toBase64(specNumbers(spec)) });
}

/**
 * A stored pass's windows, validated.
 * @throws ShardMismatchError naming what is wrong
 */
export function parsePassSpec(body: string): PassSpec {
  const parsed = z.object({ format: z.literal(PASS_FORMAT), spec: base64 }).strict().safeParse((() => {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) throw new ShardMismatchError('A stored selection pass is malformed.');
  return specOf(float64(parsed.data.spec));
}

/** A shard's results of a selection pass after the first (stored on their own). */
export interface PassPartial {
  readonly fingerprint: string;
  readonly shard: number;
  readonly shards: number;
  readonly results: PassResults;
}

export function serializePassPartial(partial: PassPartial): string {
  return JSON.stringify({ format: PASS_FORMAT, fingerprint: partial.fingerprint, shard: partial.shard, shards: partial.shards, results: passResultsJson(partial.results) });
}

/**
 * A stored pass partial, validated.
 * @throws ShardMismatchError naming what is wrong
 */
export function parsePassPartial(body: string): PassPartial {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ShardMismatchError('A shard pass state is not JSON.');
  }
  const parsed = passPartialSchema.safeParse(json);
  if (!parsed.success) throw new ShardMismatchError(`A shard pass state is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
  const p = parsed.data;
  return { fingerprint: p.fingerprint, shard: p.shard, shards: p.shards, results: passResultsOf(p.results) };
}

function toBase64(values: Float64Array | Float32Array): string {
  return littleEndianBytes(values).toString('base64');
}

function float64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 8 !== 0) throw new ShardMismatchError('A shard partial state holds a float64 array of the wrong length.');
  return new Float64Array(nativeOrder(bytes, 8));
}

function float32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new ShardMismatchError('A shard partial state holds a float32 array of the wrong length.');
  return new Float32Array(nativeOrder(bytes, 4));
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The array's bytes in little-endian order (the wire's, whatever the machine's). */
function littleEndianBytes(values: Float64Array | Float32Array): Buffer {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = Buffer.from(bytes);
  if (values.BYTES_PER_ELEMENT === 8) copy.swap64();
  else copy.swap32();
  return copy;
}

/** A fresh, aligned ArrayBuffer of little-endian `bytes` in this machine's order. */
function nativeOrder(bytes: Buffer, width: 4 | 8): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) {
    const view = Buffer.from(copy.buffer);
    if (width === 8) view.swap64();
    else view.swap32();
  }
  return copy.buffer;
}
