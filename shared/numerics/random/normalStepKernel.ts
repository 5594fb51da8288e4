import { EXP_TABLE, polynomialExp } from '../polynomialExp.js';
import { instantiateWasm } from '../wasmInstance.js';
import { Xoshiro128, substreamState } from './xoshiro128.js';
import { slowNormal, zigguratTables } from './ziggurat.js';

/**
 * Fused normal steps over four generator lanes: logs[p] += drift + vol * z_p for a chunk of
 * paths, z_p a ziggurat normal (ziggurat.ts) from xoshiro128** words, run by a WebAssembly
 * SIMD kernel (normalStepKernel.wat; four lanes in one v128) or, where WebAssembly SIMD is
 * unavailable, by addLaneStepsJs, its JavaScript reference. Both give bit-identical results
 * (test/numerics/random.test.ts checks it), so a seed's results do not depend on which ran.
 *
 * The scheme, which the kernel and the reference both follow:
 * - A block's generator (BlockNormals) has four xoshiro128** lanes and a slow-path stream.
 *   Lane l of block b is substream 5 b + l of the seed (substreamState: SplitMix64 counters
 *   base + (10 b + 2 l + 1) gamma and base + (10 b + 2 l + 2) gamma), the slow stream is
 *   substream 5 b + 4 (counters 10 b + 9, 10 b + 10): ten distinct SplitMix64 inputs per
 *   block, none shared between blocks (see xoshiro128.ts for why streams do not overlap).
 * - A call over `count` paths draws ceil(count / 4) words from every lane; word q of lane l
 *   goes to path 4 q + l (paths past count: drawn and discarded). Chunked calls (the kernel's
 *   memory holds KERNEL_CHUNK paths) keep this mapping because KERNEL_CHUNK is a multiple of 4.
 * - Fast path per word w: layer i = w & 0xff, j = w >> 8 (arithmetic); accepted when
 *   (j ^ (j >> 31)) < thresholds[i], then logs[p] = logs[p] + (drift + vol * ((j + 0.5) * scales[i]))
 *   in float64, exactly as written (no fused multiply-add on either side).
 * - Rejected words leave logs[p] unchanged and are finished afterwards, in path order, by
 *   slowNormal drawing its extra uniforms from the slow stream: logs[p] += drift + vol * z.
 *   On the kernel its finish export does this (the same draws and arithmetic, decisions of
 *   the wedge test identical to Math.exp's; see normalStepKernel.wat), about 17 ns per
 *   rejection against ~45 ns for the JavaScript slow path.
 */

/** Lanes per block generator (the kernel's i32x4). */
export const LANES = 4;
/** Substreams a block uses: its four lanes and the slow-path stream. */
export const STREAMS_PER_BLOCK = LANES + 1;
/** Paths the kernel's memory holds per call (a multiple of LANES). */
export const KERNEL_CHUNK = 4096;
/** Most assets whose block log-prices the kernel's memory holds (KERNEL_CHUNK paths each). */
export const KERNEL_MAX_ASSETS = 64;

// The kernel's memory layout, in bytes (see normalStepKernel.wat).
const TABLE = 0;
const STATE = 4096;
const LOGS = 8192;
const MISSES = 40960;
const EDGES = 73728;
const AT_OR_ABOVE = 73792;
const HEIGHTS = 90112;
const SLOW = 92672;
const TIE_MARGIN = 92688;
const WEDGE = 94208;
const BRACKETED = 110592;
const BRACKET_OF = 126976;
const MISSED_LOGS = 131072;
const CHOLESKY = 196608;
const DRIFT_STEPS = 229376;
const VOL_STEPS = 229888;
const ASSET_LOGS = 262144;
const VALUES32 = 163840;
const WEIGHTS = 230400;
const INITIAL_PRICES = 230912;
const EXP_CONSTANTS = 231424;
const SUMS = 2359296;
/** The kernel's near-tie margin (relative) for its exponential against Math.exp. */
const NEAR_TIE = 1e-12;

/**
 * The normal generator of one block of paths: four xoshiro128** lane states and the
 * slow-path stream (see the file comment).
 */
export class BlockNormals {
  /** Lane states word-major, as the kernel's four v128: lanes[4 k + l] is word k of lane l. */
  readonly lanes = new Int32Array(4 * LANES);
  readonly slow: Xoshiro128;

  /** @param laneStates four states of four uint32 words, none all zero */
  constructor(laneStates: readonly (readonly number[])[], slow: Xoshiro128) {
    if (laneStates.length !== LANES) throw new RangeError(`a block generator needs ${LANES} lane states`);
    laneStates.forEach((state, l) => {
      const check = new Xoshiro128(state); // validates the words
      for (let k = 0; k < 4; k++) this.lanes[4 * k + l] = check.s[k];
    });
    this.slow = slow;
  }

  /** The generator of block `block` under `seed`: substreams 5 block .. 5 block + 4. */
  static forBlock(seed: number, block: number): BlockNormals {
    if (!Number.isSafeInteger(block) || block < 0) throw new RangeError(`block must be a non-negative safe integer, got ${block}`);
    const first = STREAMS_PER_BLOCK * block;
    const lanes = Array.from({ length: LANES }, (_, l) => substreamState(seed, first + l));
    return new BlockNormals(lanes, new Xoshiro128(substreamState(seed, first + LANES)));
  }
}

interface Kernel {
  readonly step: (n: number, drift: number, vol: number, add: number, base: number) => number;
  readonly finish: (q: number, m: number, drift: number, vol: number, base: number) => number;
  readonly classifyBands: (n: number) => number;
  readonly correlate: (c: number, k: number, p0: number, n: number, zbase: number) => void;
  readonly assetValues: (n: number, k: number, terminal: number) => void;
  readonly memory: WebAssembly.Memory;
  readonly state: Int32Array;
  readonly logs: Float64Array;
  readonly misses: Int32Array;
  /** Each miss's log-price from before the step (the kernel writes a provisional one in its place). */
  readonly missedLogs: Float64Array;
  readonly slow: Int32Array;
  readonly tieMargin: Float64Array;
  readonly edges: Float32Array;
  readonly atOrAbove: Int32Array;
  readonly bracketed: Float32Array;
  readonly bracketOf: Uint8Array;
  readonly cholesky: Float64Array;
  readonly driftSteps: Float64Array;
  readonly volSteps: Float64Array;
  readonly values32: Float32Array;
  readonly weights: Float64Array;
  readonly initialPrices: Float64Array;
}

/** This thread's kernel instance: undefined before the first use, null without SIMD support. */
let kernel: Kernel | null | undefined;

/**
 * Loads the kernel once per thread (synchronously: module-level code of a worker and the
 * first simulated block both need it at once), with its own memory, and writes the
 * ziggurat tables into it. Returns null when this runtime cannot validate the module
 * (no WebAssembly SIMD): callers then use the JavaScript reference.
 * @throws Error when normalStepKernel.wasm is not beside this module (not assembled)
 */
function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  // Math.log itself, so the kernel's tail values are JavaScript's bit for bit; Math.exp for
  // the rare |x| > 700 of polynomialExp.
  const instance = instantiateWasm(new URL('./normalStepKernel.wasm', import.meta.url), { math: { log: Math.log, exp: Math.exp } });
  if (!instance) return (kernel = null);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const { thresholds, scales, heights } = zigguratTables();
  new Float64Array(memory.buffer, HEIGHTS, heights.length).set(heights);
  new Float64Array(memory.buffer, WEDGE, WEDGE_STRIDE * scales.length).set(wedgeParabolas(scales));
  new Float64Array(memory.buffer, TIE_MARGIN, 1)[0] = NEAR_TIE;
  new Float64Array(memory.buffer, EXP_CONSTANTS, EXP_TABLE.length).set(EXP_TABLE);
  const tableF64 = new Float64Array(memory.buffer, TABLE, 2 * scales.length);
  const tableI32 = new Int32Array(memory.buffer, TABLE, 4 * thresholds.length);
  for (let i = 0; i < scales.length; i++) {
    tableF64[2 * i] = scales[i];
    tableI32[4 * i + 2] = thresholds[i];
  }
  // The kernel never grows its memory, so these views stay attached.
  return (kernel = {
    step: instance.exports.step as Kernel['step'],
    finish: instance.exports.finish as Kernel['finish'],
    classifyBands: instance.exports.classifyBands as Kernel['classifyBands'],
    correlate: instance.exports.correlate as Kernel['correlate'],
    assetValues: instance.exports.assetValues as Kernel['assetValues'],
    memory,
    state: new Int32Array(memory.buffer, STATE, 4 * LANES),
    logs: new Float64Array(memory.buffer, LOGS, KERNEL_CHUNK),
    misses: new Int32Array(memory.buffer, MISSES, 2 * KERNEL_CHUNK),
    missedLogs: new Float64Array(memory.buffer, MISSED_LOGS, KERNEL_CHUNK),
    slow: new Int32Array(memory.buffer, SLOW, 4),
    tieMargin: new Float64Array(memory.buffer, TIE_MARGIN, 1),
    edges: new Float32Array(memory.buffer, EDGES, BAND_EDGES),
    atOrAbove: new Int32Array(memory.buffer, AT_OR_ABOVE, BAND_EDGES),
    bracketed: new Float32Array(memory.buffer, BRACKETED, KERNEL_CHUNK),
    bracketOf: new Uint8Array(memory.buffer, BRACKET_OF, KERNEL_CHUNK),
    cholesky: new Float64Array(memory.buffer, CHOLESKY, KERNEL_MAX_ASSETS * KERNEL_MAX_ASSETS),
    driftSteps: new Float64Array(memory.buffer, DRIFT_STEPS, KERNEL_MAX_ASSETS),
    volSteps: new Float64Array(memory.buffer, VOL_STEPS, KERNEL_MAX_ASSETS),
    values32: new Float32Array(memory.buffer, VALUES32, KERNEL_CHUNK),
    weights: new Float64Array(memory.buffer, WEIGHTS, KERNEL_MAX_ASSETS),
    initialPrices: new Float64Array(memory.buffer, INITIAL_PRICES, KERNEL_MAX_ASSETS),
  });
}

/** Samples per layer for wedgeParabolas' gap bounds. */
const WEDGE_SAMPLES = 64;
/** Absolute slack of wedgeParabolas' bounds: far above float rounding (< 1e-15 on values <= 1). */
const WEDGE_SLACK = 1e-13;
/** Float64 slots per layer in the kernel's wedge table. */
const WEDGE_STRIDE = 8;

/**
 * The kernel's wedge shortcut. For each layer i >= 1, over t in [x[i+1], x[i]] (widened by
 * 1e-9), the parabola P(u) = p0 + u (p1 + u p2), u = t - m, through f at both edges and the
 * midpoint m, f(t) = exp(-t^2 / 2), and bounds lo < f(t) - P(t - m) < hi. A uniform height
 * y at |x| is then under the curve when y - P(|x| - m) < lo and above it when > hi, whatever
 * rounding Math.exp has (its error, < 2e-15 with that of -x^2 / 2, is far inside
 * WEDGE_SLACK); only draws in the band between, ~0.1% of wedge draws, need the exponential.
 * The gap's extremes come from WEDGE_SAMPLES + 1 samples (P evaluated as the kernel does),
 * widened by the most a function with |g''| <= M can exceed its samples between two of them,
 * M delta^2 / 8, with g'' = -f'' - 2 p2 and |f''| <= 1, plus WEDGE_SLACK.
 * Layout: m, p0, p1, p2, lo, hi per layer, WEDGE_STRIDE slots apart (layer 0 unused: its
 * misses sample the tail).
 */
function wedgeParabolas(scales: Float64Array): Float64Array {
  const out = new Float64Array(WEDGE_STRIDE * scales.length);
  const f = (t: number) => Math.exp(-0.5 * t * t);
  const edge = (i: number) => (i < scales.length ? scales[i] * 8388608 : 0);
  for (let i = 1; i < scales.length; i++) {
    const a = Math.max(0, edge(i + 1) - 1e-9);
    const b = edge(i) + 1e-9;
    const m = (a + b) / 2;
    const half = (b - a) / 2;
    const p0 = f(m);
    const p1 = (f(b) - f(a)) / (2 * half);
    const p2 = ((f(a) + f(b)) / 2 - p0) / (half * half);
    let lo = Infinity;
    let hi = -Infinity;
    const delta = (b - a) / WEDGE_SAMPLES;
    for (let k = 0; k <= WEDGE_SAMPLES; k++) {
      const u = a + k * delta - m;
      const g = f(u + m) - (p0 + u * (p1 + u * p2));
      lo = Math.min(lo, g);
      hi = Math.max(hi, g);
    }
    const pad = ((1 + 2 * Math.abs(p2)) * delta * delta) / 8 + WEDGE_SLACK;
    out.set([m, p0, p1, p2, lo - pad, hi + pad], WEDGE_STRIDE * i);
  }
  return out;
}

/**
 * Testing only: with `parabolas` false every wedge draw skips the parabola shortcut and goes
 * to the kernel's exponential; `nearTie` is the relative margin within which the kernel
 * hands a draw to JavaScript (a huge one hands over every draw that reaches the
 * exponential). setKernelSlowPathForTesting({ parabolas: true, nearTie: 1e-12 }) restores
 * the defaults. No effect without the kernel.
 */
export function setKernelSlowPathForTesting(options: { readonly parabolas: boolean; readonly nearTie: number }): void {
  const k = loadKernel();
  if (!k) return;
  const table = new Float64Array(k.memory.buffer, WEDGE, WEDGE_STRIDE * 256);
  table.set(wedgeParabolas(zigguratTables().scales));
  if (!options.parabolas) for (let i = 1; i < 256; i++) table.set([-Infinity, Infinity], WEDGE_STRIDE * i + 4);
  k.tieMargin[0] = options.nearTie;
}

/** Which implementation addLaneSteps uses on this thread. */
export function normalKernelKind(): 'wasm-simd' | 'js' {
  return loadKernel() ? 'wasm-simd' : 'js';
}

/**
 * Log-prices for one block of `count` <= KERNEL_CHUNK paths, all 0: a view of the kernel's
 * memory when it is loaded, so addLaneSteps updates them in place with no copy per step.
 * The view is this thread's single scratch: valid until the next blockLogs call, and it
 * must not be live while addLaneSteps runs on another array (which uses the same memory).
 */
export function blockLogs(count: number): Float64Array {
  if (!Number.isInteger(count) || count < 0 || count > KERNEL_CHUNK) throw new RangeError(`block logs hold 0..${KERNEL_CHUNK} paths, got ${count}`);
  const k = loadKernel();
  if (!k) return new Float64Array(count);
  const logs = k.logs.subarray(0, count);
  logs.fill(0);
  return logs;
}

/**
 * One exact log-space GBM step for paths 0..count-1: logs[p] += drift + vol * z_p, the z_p
 * drawn from `gen` by the lane scheme (file comment), on the kernel when loaded.
 * @param gen the block's generator, advanced
 * @param logs log-prices, updated in place (a blockLogs view is updated without copies)
 * @param count paths
 * @param drift (mu - sigma^2 / 2) dt
 * @param vol sigma sqrt(dt)
 */
export function addLaneSteps(gen: BlockNormals, logs: Float64Array, count: number, drift: number, vol: number, steps = 1): void {
  if (loadKernel()) addLaneStepsWasm(gen, logs, count, drift, vol, steps);
  else addLaneStepsJs(gen, logs, count, drift, vol, steps);
}

/**
 * Fills out[0..count) with standard normals by the lane scheme: 0 + (0 + 1 * z) is z
 * exactly (a ziggurat variate is never -0), so this is addLaneSteps on zeros.
 */
export function fillLaneNormals(gen: BlockNormals, out: Float64Array, count: number = out.length): void {
  out.fill(0, 0, count);
  addLaneSteps(gen, out, count, 0, 1);
}

/** addLaneSteps on the WebAssembly kernel. @throws Error when the kernel is unavailable */
export function addLaneStepsWasm(gen: BlockNormals, logs: Float64Array, count: number, drift: number, vol: number, steps = 1): void {
  const k = loadKernel();
  if (!k) throw new Error('the WebAssembly SIMD normal-step kernel is not available in this runtime');
  checkCount(logs, count);
  const inPlace = logs.buffer === k.memory.buffer && logs.byteOffset === LOGS;
  if (inPlace && count > KERNEL_CHUNK) throw new RangeError(`a blockLogs view holds at most ${KERNEL_CHUNK} paths`);
  // Both generator states stay in the kernel's memory for all the steps of the call.
  k.state.set(gen.lanes);
  k.slow.set(gen.slow.s);
  for (let step = 0; step < steps; step++) {
    for (let start = 0; start < count; start += KERNEL_CHUNK) {
      const n = Math.min(KERNEL_CHUNK, count - start);
      if (!inPlace) k.logs.set(logs.subarray(start, start + n));
      const m = k.step(n, drift, vol, 1, 0);
      if (m > 0) finishMissesWasm(k, gen.slow, m, drift, vol, 0);
      if (!inPlace) logs.set(k.logs.subarray(0, n), start);
    }
  }
  gen.lanes.set(k.state);
  gen.slow.s.set(k.slow);
}

/** Rejected fast-path draws (misses[2 q] the path, misses[2 q + 1] the word), in order. */
function finishMisses(slow: Xoshiro128, logs: Float64Array, misses: Int32Array, m: number, drift: number, vol: number): void {
  for (let q = 0; q < 2 * m; q += 2) {
    const w = misses[q + 1];
    logs[misses[q]] += drift + vol * slowNormal(slow, w & 0xff, w >> 8);
  }
}

/**
 * finishMisses on the kernel: its finish runs the slow path over the miss list with the
 * slow stream's state in its memory (the caller copies it in and out), and hands back any
 * miss it cannot decide
 * bit-identically (a near tie of its exp with Math.exp: essentially never), which
 * slowNormal finishes from the word the kernel left for it.
 */
function finishMissesWasm(k: Kernel, slow: Xoshiro128, m: number, drift: number, vol: number, base: number): void {
  const { misses } = k;
  for (let q = k.finish(0, m, drift, vol, base); q < m; q = k.finish(q + 1, m, drift, vol, base)) {
    slow.s.set(k.slow);
    const w = misses[2 * q + 1];
    const p = misses[2 * q];
    new Float64Array(k.memory.buffer, LOGS + base + 8 * p, 1)[0] = k.missedLogs[q] + (drift + vol * slowNormal(slow, w & 0xff, w >> 8));
    k.slow.set(slow.s);
  }
}

function checkCount(logs: Float64Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > logs.length) throw new RangeError(`count must be an integer in 0..${logs.length}, got ${count}`);
}

let jsMisses = new Int32Array(2 * KERNEL_CHUNK);

/**
 * The JavaScript reference of the kernel (and the fallback without WebAssembly SIMD): the
 * lane scheme of the file comment written plainly, one lane word at a time.
 */
export function addLaneStepsJs(gen: BlockNormals, logs: Float64Array, count: number, drift: number, vol: number, steps = 1): void {
  for (let step = 0; step < steps; step++) addLaneStepJs(gen, logs, count, drift, vol);
}

function addLaneStepJs(gen: BlockNormals, logs: Float64Array, count: number, drift: number, vol: number): void {
  checkCount(logs, count);
  const { thresholds, scales } = zigguratTables();
  const st = gen.lanes;
  if (jsMisses.length < 2 * count) jsMisses = new Int32Array(2 * count);
  const misses = jsMisses;
  let m = 0;
  for (let q = 0; q < count; q += LANES) {
    for (let l = 0; l < LANES; l++) {
      // xoshiro128** step of lane l (see xoshiro128.ts), output w as int32.
      let s0 = st[l], s1 = st[4 + l], s2 = st[8 + l], s3 = st[12 + l];
      const r = Math.imul(s1, 5);
      const w = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      st[l] = s0; st[4 + l] = s1; st[8 + l] = s2; st[12 + l] = s3;
      const p = q + l;
      if (p >= count) continue;
      const i = w & 0xff;
      const j = w >> 8;
      if ((j ^ (j >> 31)) < thresholds[i]) logs[p] += drift + vol * ((j + 0.5) * scales[i]);
      else {
        misses[m++] = p;
        misses[m++] = w;
      }
    }
  }
  if (m > 0) finishMisses(gen.slow, logs, misses, m / 2, drift, vol);
}

/** Edges classifyBands takes: five brackets [e2k, e2k+1). */
export const BAND_EDGES = 10;

/**
 * Classifies the float32 roundings v of logs[0..count) (the values a float32 band store
 * holds) against ten increasing float32 edges, edges[e..e+10): adds to atOrAbove[a + i] the
 * number of v >= e_i, and appends each v inside a bracket (v >= e2k and not v >= e2k+1) to
 * bracketed[], its bracket k to bracketOf[], in path order. On the kernel when `logs` is
 * its block view (blockLogs), else classifyBandsJs; the results are the same either way.
 * @returns the number of values appended
 */
export function classifyBands(
  logs: Float64Array,
  count: number,
  edges: Float32Array,
  e: number,
  atOrAbove: Int32Array,
  a: number,
  bracketed: Float32Array,
  bracketOf: Uint8Array,
): number {
  checkCount(logs, count);
  const k = loadKernel();
  if (!k || logs.buffer !== k.memory.buffer || logs.byteOffset !== LOGS) return classifyBandsJs(logs, 0, count, edges, e, atOrAbove, a, bracketed, bracketOf, 0);
  const whole = count - (count % 4);
  for (let i = 0; i < BAND_EDGES; i++) k.edges[i] = edges[e + i];
  const m = k.classifyBands(whole);
  for (let i = 0; i < BAND_EDGES; i++) atOrAbove[a + i] += k.atOrAbove[i];
  for (let q = 0; q < m; q++) {
    bracketed[q] = k.bracketed[q];
    bracketOf[q] = k.bracketOf[q];
  }
  return whole === count ? m : classifyBandsJs(logs, whole, count, edges, e, atOrAbove, a, bracketed, bracketOf, m);
}

/**
 * classifyBands in JavaScript over logs[from..to), appending from bracketed[m]: the same
 * comparisons on the same float32 values. @returns the new number of values appended
 */
export function classifyBandsJs(
  logs: Float64Array,
  from: number,
  to: number,
  edges: Float32Array,
  e: number,
  atOrAbove: Int32Array,
  a: number,
  bracketed: Float32Array,
  bracketOf: Uint8Array,
  m: number,
): number {
  let appended = m;
  for (let p = from; p < to; p++) {
    const v = Math.fround(logs[p]);
    for (let i = 0; i < BAND_EDGES; i++) if (v >= edges[e + i]) atOrAbove[a + i]++;
    for (let b = 0; b < BAND_EDGES / 2; b++) {
      if (v >= edges[e + 2 * b] && !(v >= edges[e + 2 * b + 1])) {
        bracketed[appended] = v;
        bracketOf[appended++] = b;
      }
    }
  }
  return appended;
}

/**
 * One correlated log-space step of several assets: the per-asset numbers addCorrelatedSteps
 * adds, logs[a n + p] += drift[a] + vol[a] (L z_p)[a].
 */
export interface CorrelatedStep {
  readonly assets: number;
  /** The lower Cholesky factor L of the assets' correlation, row-major assets x assets. */
  readonly cholesky: Float64Array;
  /** Per asset (mu - sigma^2 / 2) dt. */
  readonly drift: Float64Array;
  /** Per asset sigma sqrt(dt). */
  readonly vol: Float64Array;
}

/**
 * Log-prices of one block of `count` <= KERNEL_CHUNK paths of `assets` assets, asset-major
 * (asset a's path p at a count + p), all 0: a view of the kernel's memory when it is loaded
 * and holds that many assets (KERNEL_MAX_ASSETS), so addCorrelatedSteps updates them in
 * place; else a new array. The view is this thread's single scratch for several assets:
 * valid until the next blockAssetLogs call.
 */
export function blockAssetLogs(assets: number, count: number): Float64Array {
  if (!Number.isInteger(count) || count < 0 || count > KERNEL_CHUNK) throw new RangeError(`block logs hold 0..${KERNEL_CHUNK} paths, got ${count}`);
  const k = loadKernel();
  if (!k || assets > KERNEL_MAX_ASSETS) return new Float64Array(assets * count);
  const logs = new Float64Array(k.memory.buffer, ASSET_LOGS, assets * count);
  logs.fill(0);
  return logs;
}

/**
 * `steps` exact correlated log-space GBM steps for paths 0..count-1 of `step.assets`
 * assets: each step draws the standard normals of every path and asset by the lane scheme
 * (file comment) over assets x count values, path p's asset j at index p assets + j (what
 * fillLaneNormals(gen, z, assets * count) gives); their sums over the steps
 * Z = z_1 + z_2 + ... (in step order) are correlated with L once, and each log-price moves
 * by all the steps at once: logs[a count + p] = logs[a count + p] + (steps drift[a] +
 * vol[a] e), e = 0 + L[a][0] Z_0 + ... + L[a][a] Z_a summed in that order. That is the sum of
 * the steps' moves (L is linear), so the same law at the call's end, with one Cholesky
 * product per path and call instead of one per step; the log-prices between are never
 * needed (a call ends at a band point). On the kernel (draws summed in its memory, the
 * correlation in WebAssembly) when `logs` is its blockAssetLogs view, else
 * addCorrelatedStepsJs; the results are bit-identical either way.
 * @param gen the block's generator, advanced
 * @param logs asset-major log-prices, updated in place
 */
export function addCorrelatedSteps(gen: BlockNormals, logs: Float64Array, count: number, step: CorrelatedStep, steps = 1): void {
  const k = loadKernel();
  if (k && logs.buffer === k.memory.buffer && logs.byteOffset === ASSET_LOGS) addCorrelatedStepsWasm(k, gen, logs, count, step, steps);
  else addCorrelatedStepsJs(gen, logs, count, step, steps);
}

function addCorrelatedStepsWasm(k: Kernel, gen: BlockNormals, logs: Float64Array, count: number, s: CorrelatedStep, steps: number): void {
  const assets = s.assets;
  if (assets > KERNEL_MAX_ASSETS || logs.length < assets * count) throw new RangeError(`a blockAssetLogs view of ${logs.length} values cannot hold ${assets} x ${count}`);
  k.cholesky.set(s.cholesky.subarray(0, assets * assets));
  for (let a = 0; a < assets; a++) k.driftSteps[a] = steps * s.drift[a];
  k.volSteps.set(s.vol.subarray(0, assets));
  // Whole paths per draw call, a multiple of LANES of them, so every call starts on a lane
  // boundary (word q of lane l still goes to index 4 q + l of the step's values) and only a
  // step's last call may end mid-word-row, where the lane scheme's padding is anyway; at
  // most KERNEL_CHUNK values, what the miss list holds.
  const chunk = Math.floor(KERNEL_CHUNK / (LANES * assets)) * LANES;
  k.state.set(gen.lanes);
  k.slow.set(gen.slow.s);
  // Each path's normals summed over the steps in the sums area (the first step writes them),
  // then one correlated move per path for all the steps.
  for (let step = 0; step < steps; step++) {
    for (let p0 = 0; p0 < count; p0 += chunk) {
      const base = SUMS - LOGS + 8 * p0 * assets;
      const m = k.step(Math.min(chunk, count - p0) * assets, 0, 1, step > 0 ? 1 : 0, base);
      if (m > 0) finishMissesWasm(k, gen.slow, m, 0, 1, base);
    }
  }
  for (let p0 = 0; p0 < count && steps > 0; p0 += chunk) k.correlate(Math.min(chunk, count - p0), assets, p0, count, SUMS - LOGS + 8 * p0 * assets);
  gen.lanes.set(k.state);
  gen.slow.s.set(k.slow);
}

let correlatedNormals = new Float64Array(0);
let correlatedSums = new Float64Array(0);

/** The JavaScript reference of addCorrelatedSteps (and its route without the kernel). */
export function addCorrelatedStepsJs(gen: BlockNormals, logs: Float64Array, count: number, s: CorrelatedStep, steps = 1): void {
  const k = s.assets;
  const L = s.cholesky;
  if (correlatedNormals.length < k * count) {
    correlatedNormals = new Float64Array(k * count);
    correlatedSums = new Float64Array(k * count);
  }
  const z = correlatedNormals;
  const sums = correlatedSums;
  for (let step = 0; step < steps; step++) {
    fillLaneNormals(gen, z, k * count);
    if (step === 0) sums.set(z.subarray(0, k * count));
    else for (let i = 0; i < k * count; i++) sums[i] += z[i];
  }
  if (steps <= 0) return;
  for (let p = 0; p < count; p++) {
    const zp = p * k;
    for (let a = 0; a < k; a++) {
      const row = a * k;
      let e = 0;
      for (let j = 0; j <= a; j++) e += L[row + j] * sums[zp + j];
      logs[a * count + p] += steps * s.drift[a] + s.vol[a] * e;
    }
  }
}

/**
 * The portfolio values of one block's asset log-prices x (asset-major, asset a's path p at
 * a count + p): values[p] = 0 + w_0 e^x_0 + w_1 e^x_1 + ... summed in asset order, e^x by
 * polynomialExp (within one ulp; the same function on every route, so a seed's numbers do
 * not depend on the route, the thread or the shard). `values32`, when given, gets their
 * float32 roundings (a band store's values). With `initialPrices` (the horizon) each
 * log-price is also replaced by its price S_0 e^x, from the same exponential. On the kernel
 * (two paths per f64x2) when `logs` is its blockAssetLogs view, else assetValuesJs; the
 * results are bit-identical either way.
 */
export function assetValues(
  logs: Float64Array,
  assets: number,
  count: number,
  weights: Float64Array,
  values: Float64Array,
  values32: Float32Array | null,
  initialPrices: Float64Array | null,
): void {
  const k = loadKernel();
  if (!k || logs.buffer !== k.memory.buffer || logs.byteOffset !== ASSET_LOGS) {
    assetValuesJs(logs, assets, count, weights, values, values32, initialPrices);
    return;
  }
  if (logs.length < assets * count) throw new RangeError(`a blockAssetLogs view of ${logs.length} values cannot hold ${assets} x ${count}`);
  k.weights.set(weights.subarray(0, assets));
  if (initialPrices) k.initialPrices.set(initialPrices.subarray(0, assets));
  k.assetValues(count, assets, initialPrices ? 1 : 0);
  values.set(k.logs.subarray(0, count));
  if (values32) values32.set(k.values32.subarray(0, count));
}

/** The JavaScript reference of assetValues (and its route without the kernel). */
export function assetValuesJs(
  logs: Float64Array,
  assets: number,
  count: number,
  weights: Float64Array,
  values: Float64Array,
  values32: Float32Array | null,
  initialPrices: Float64Array | null,
): void {
  values.fill(0, 0, count);
  for (let a = 0; a < assets; a++) {
    const w = weights[a];
    const s0 = initialPrices ? initialPrices[a] : 0;
    for (let p = 0, x = a * count; p < count; p++, x++) {
      const e = polynomialExp(logs[x]);
      values[p] += w * e;
      if (initialPrices) logs[x] = s0 * e;
    }
  }
  if (values32) for (let p = 0; p < count; p++) values32[p] = values[p];
}
