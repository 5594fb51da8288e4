import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Xoshiro128, substreamState } from '../../shared/numerics/random/xoshiro128.js';
import { zigguratEdges, zigguratTables } from '../../shared/numerics/random/ziggurat.js';
import { cholesky } from '../../shared/numerics/linalg/cholesky.js';
import {
  addCorrelatedSteps,
  addCorrelatedStepsJs,
  addLaneSteps,
  addLaneStepsJs,
  addLaneStepsWasm,
  assetValues,
  assetValuesJs,
  BAND_EDGES,
  BlockNormals,
  blockAssetLogs,
  blockLogs,
  classifyBands,
  classifyBandsJs,
  fillLaneNormals,
  KERNEL_CHUNK,
  KERNEL_MAX_ASSETS,
  normalKernelKind,
  setKernelSlowPathForTesting,
  type CorrelatedStep,
} from '../../shared/numerics/random/normalStepKernel.js';
import { normalCdf } from '../../shared/numerics/normal.js';
import { polynomialExp } from '../../shared/numerics/polynomialExp.js';

interface XoshiroFixture {
  cases: { seed: number; stream: number; state: number[]; first_words: number[]; word_2000: number }[];
  blocks: { seed: number; block: number; lanes: number[][]; slow: number[]; lane_words: number[][]; lane_word_1001: number[] }[];
  state_1234_outputs: number[];
}
// Made by xoshiro128_reference.py (Python integers masked to 32 bits, independent of the
// int32 arithmetic of the TypeScript generator; its state {1, 2, 3, 4} outputs were also
// checked against Vigna's C code).
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/montecarlo/xoshiro128_reference.json', import.meta.url), 'utf8'),
) as XoshiroFixture;

describe('xoshiro128**', () => {
  it('reproduces the reference outputs from state {1, 2, 3, 4}', () => {
    const words = new Uint32Array(12);
    new Xoshiro128([1, 2, 3, 4]).fillUint32(words);
    expect(Array.from(words)).toEqual(fixture.state_1234_outputs);
  });

  it.each(fixture.cases)('matches the reference for seed $seed, stream $stream (SplitMix64 seeding and 2000 words)', (c) => {
    expect(substreamState(c.seed, c.stream)).toEqual(c.state);
    const words = new Uint32Array(2000);
    Xoshiro128.forStream(c.seed, c.stream).fillUint32(words);
    expect(Array.from(words.subarray(0, 16))).toEqual(c.first_words);
    expect(words[1999]).toBe(c.word_2000);
  });

  it('hands out the same words one at a time as in bulk, across odd-sized fills', () => {
    const bulk = new Uint32Array(101);
    Xoshiro128.forStream(7, 3).fillUint32(bulk);
    const rng = Xoshiro128.forStream(7, 3);
    const mixed = [rng.nextUint32()];
    const part = new Uint32Array(37);
    rng.fillUint32(part);
    mixed.push(...part);
    while (mixed.length < 101) mixed.push(rng.nextUint32());
    expect(mixed).toEqual(Array.from(bulk));
  });

  it('gives different streams for different seeds and stream indices', () => {
    const first = (seed: number, stream: number) => {
      const w = new Uint32Array(4);
      Xoshiro128.forStream(seed, stream).fillUint32(w);
      return Array.from(w);
    };
    expect(first(1, 0)).not.toEqual(first(2, 0));
    expect(first(1, 0)).not.toEqual(first(1, 1));
  });

  it('rejects negative or fractional seeds and an all-zero state', () => {
    expect(() => Xoshiro128.forStream(-1, 0)).toThrow(RangeError);
    expect(() => Xoshiro128.forStream(1.5, 0)).toThrow(RangeError);
    expect(() => new Xoshiro128([0, 0, 0, 0])).toThrow(RangeError);
  });
});

describe('ziggurat normals', () => {
  it('builds 256 layers of equal area that close at x = 0 (top layer area matches v to 1e-9)', () => {
    const x = zigguratEdges();
    const v = 0.00492867323399;
    const f = (t: number) => Math.exp(-0.5 * t * t);
    // The last recursively built edge gives the top layer; its area x[255] (1 - f(x[255]))
    // equals v only if Marsaglia-Tsang's r and v are consistent.
    expect(Math.abs(x[255] * (1 - f(x[255])) - v)).toBeLessThan(1e-9);
    expect(x[1]).toBe(3.6541528853610088);
  });

  // One million variates from a fixed seed, drawn on the WebAssembly kernel (the path jobs
  // use; the JavaScript reference is bit-identical, tested below): every bound below is 5
  // standard errors of the statistic under exact normality, so a correct sampler fails with
  // probability < 1e-6 per check, and the seed makes the run deterministic anyway.
  const n = 1_000_000;
  const z = new Float64Array(n);
  fillLaneNormals(BlockNormals.forBlock(20240601, 0), z);

  it('runs on the WebAssembly SIMD kernel here (run `node scripts/buildWasm.mjs` if missing)', () => {
    expect(normalKernelKind()).toBe('wasm-simd');
  });

  it('has mean 0, variance 1, skewness 0 and excess kurtosis 0 within 5 standard errors', () => {
    let m1 = 0;
    for (const v of z) m1 += v;
    m1 /= n;
    let m2 = 0, m3 = 0, m4 = 0;
    for (const v of z) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n; m3 /= n; m4 /= n;
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m4 / m2 ** 2 - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
  });

  it('passes a Kolmogorov-Smirnov test against the normal CDF (p > 0.001)', () => {
    const sorted = z.slice().sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const F = normalCdf(sorted[i]);
      d = Math.max(d, (i + 1) / n - F, F - i / n);
    }
    // Asymptotic Kolmogorov distribution with Stephens' small-sample correction.
    const lambda = (Math.sqrt(n) + 0.12 + 0.11 / Math.sqrt(n)) * d;
    let p = 0;
    for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
    expect(p, `KS D = ${d}, p = ${p}`).toBeGreaterThan(0.001);
  });

  it('puts the right mass in the tail beyond r = 3.654 (the tail sampler) and in the wedges', () => {
    // P(|Z| > r) = 2 (1 - Phi(r)) = 2.58e-4: ~258 of 1e6, Poisson sd ~16, bound 5 sd.
    const r = 3.6541528853610088;
    const expected = 2 * normalCdf(-r) * n;
    const beyond = z.filter((v) => Math.abs(v) > r).length;
    expect(Math.abs(beyond - expected)).toBeLessThan(5 * Math.sqrt(expected));
    // |Z| > 4.5: expected 6.8 -> the tail sampler reaches past the first few layers' edges.
    expect(z.some((v) => Math.abs(v) > 4.5)).toBe(true);
  });

  it('is symmetric: as many negative as positive variates within 5 standard errors', () => {
    const negative = z.filter((v) => v < 0).length;
    expect(Math.abs(negative - n / 2)).toBeLessThan(5 * Math.sqrt(n / 4));
  });

  it('draws the same variates for the same seed, block and count, and others for another block', () => {
    const draw = (block: number) => {
      const out = new Float64Array(10_000);
      fillLaneNormals(BlockNormals.forBlock(20240601, block), out);
      return Array.from(out);
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });
});

/** Bytes of a float array, so comparisons are bit for bit (-0, NaN payloads included). */
const bytesOf = (a: Float64Array | Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe('four-lane block generator and the WebAssembly kernel', () => {
  it.each(fixture.blocks)('seeds block $block of seed $seed from substreams 5 block + lane (Python reference)', (c) => {
    const gen = BlockNormals.forBlock(c.seed, c.block);
    for (let l = 0; l < 4; l++) expect([0, 1, 2, 3].map((k) => gen.lanes[4 * k + l] >>> 0)).toEqual(c.lanes[l]);
    expect(Array.from(gen.slow.s, (w) => w >>> 0)).toEqual(c.slow);
  });

  it.each(fixture.blocks)('gives path 4q + l the word q of lane l, on the kernel and in JS (seed $seed, block $block)', (c) => {
    const { thresholds, scales } = zigguratTables();
    for (const fill of [addLaneStepsWasm, addLaneStepsJs]) {
      const gen = BlockNormals.forBlock(c.seed, c.block);
      const count = 4 * 1001 - 3; // 1001 words per lane, the last three discarded
      const z = new Float64Array(count);
      fill(gen, z, count, 0, 1);
      let fast = 0;
      for (let p = 0; p < 256; p++) {
        const w = c.lane_words[p % 4][p >> 2] | 0;
        const i = w & 0xff;
        const j = w >> 8;
        if ((j ^ (j >> 31)) < thresholds[i]) {
          expect(z[p], `path ${p}`).toBe((j + 0.5) * scales[i]);
          fast++;
        }
      }
      expect(fast).toBeGreaterThan(240);
      // Each lane has drawn exactly 1001 words: its next one is the reference's 1002nd.
      const next = [0, 1, 2, 3].map((l) => new Xoshiro128([0, 1, 2, 3].map((k) => gen.lanes[4 * k + l])).nextUint32());
      const expected = c.lanes.map((state) => {
        const words = new Uint32Array(1002);
        new Xoshiro128(state).fillUint32(words);
        return words[1001];
      });
      expect(next).toEqual(expected);
      expect(c.lane_words.map((_, l) => { const w = new Uint32Array(1001); new Xoshiro128(c.lanes[l]).fillUint32(w); return w[1000]; })).toEqual(c.lane_word_1001);
    }
  });

  it('kernel and JS reference give bit-identical log-prices and generator states (rejections, chunks, odd counts)', () => {
    const cases: [seed: number, block: number, count: number, steps: number][] = [
      [1, 0, 4096, 3],
      [42, 7, 4093, 5], // not a multiple of 4: padding lanes
      [20240601, 300, 50_001, 2], // ~350 rejections per step, several kernel chunks
      [2 ** 53 - 1, 1000, 1, 4],
      [9, 2, 0, 1],
    ];
    let rejections = 0;
    for (const [seed, block, count, steps] of cases) {
      const start = Float64Array.from({ length: count }, (_, p) => Math.sin(p));
      const a = start.slice();
      const b = start.slice();
      const ga = BlockNormals.forBlock(seed, block);
      const gb = BlockNormals.forBlock(seed, block);
      for (let s = 0; s < steps; s++) {
        const drift = 0.0003 * (s + 1);
        const vol = 0.0126 + 0.5 * s;
        addLaneStepsWasm(ga, a, count, drift, vol);
        addLaneStepsJs(gb, b, count, drift, vol);
      }
      expect(bytesOf(a), `seed ${seed} block ${block} count ${count}`).toEqual(bytesOf(b));
      expect(Array.from(ga.lanes)).toEqual(Array.from(gb.lanes));
      expect(ga.slow.nextUint32()).toBe(gb.slow.nextUint32()); // same slow-path words consumed
      rejections += Array.from(a).filter((x, p) => x === start[p]).length;
    }
    // In-place on the kernel's own memory (how simulateBlock steps one asset).
    const gc = BlockNormals.forBlock(5, 9);
    const gd = BlockNormals.forBlock(5, 9);
    const view = blockLogs(KERNEL_CHUNK);
    const plain = new Float64Array(KERNEL_CHUNK);
    for (let s = 0; s < 20; s++) {
      addLaneSteps(gc, view, KERNEL_CHUNK, 0.0003, 0.0126);
      addLaneStepsJs(gd, plain, KERNEL_CHUNK, 0.0003, 0.0126);
    }
    expect(bytesOf(view)).toEqual(bytesOf(plain));
    expect(rejections).toBe(0); // a rejected draw is finished by the slow path, never skipped
  });

  it('finishes rejected draws in the kernel exactly as slowNormal does, on every fallback route', () => {
    // Default: the parabola bounds decide, the kernel's exp the rare rest, Math.log the tail.
    // Then every wedge draw through the kernel's exp (its 1e-12 margin must give Math.exp's
    // decisions), then every such draw handed to JavaScript (the mid-list hand-over).
    const count = 100_000; // ~1,500 rejections per step
    const routes = [
      { parabolas: true, nearTie: 1e-12 },
      { parabolas: false, nearTie: 1e-12 },
      { parabolas: false, nearTie: 1e300 },
    ];
    try {
      for (const route of routes) {
        setKernelSlowPathForTesting(route);
        const a = new Float64Array(count);
        const b = new Float64Array(count);
        const ga = BlockNormals.forBlock(77, 3);
        const gb = BlockNormals.forBlock(77, 3);
        for (let s = 0; s < 3; s++) {
          addLaneStepsWasm(ga, a, count, 0.0003, 1 + s);
          addLaneStepsJs(gb, b, count, 0.0003, 1 + s);
        }
        expect(bytesOf(a), JSON.stringify(route)).toEqual(bytesOf(b));
        expect(ga.slow.nextUint32()).toBe(gb.slow.nextUint32());
      }
    } finally {
      setKernelSlowPathForTesting({ parabolas: true, nearTie: 1e-12 });
    }
  });

  it('keeps the values of a fixed seed (pinned before the slow path moved into the kernel)', () => {
    for (const fill of [addLaneStepsWasm, addLaneStepsJs]) {
      const gen = BlockNormals.forBlock(20240601, 11);
      const count = 10_001;
      const logs = new Float64Array(count);
      for (let s = 0; s < 60; s++) fill(gen, logs, count, 0.0003, 0.0126 + 0.3 * (s % 3));
      let h = 0x811c9dc5; // FNV-1a of the bytes
      for (const byte of new Uint8Array(logs.buffer)) h = Math.imul(h ^ byte, 0x01000193);
      expect((h >>> 0).toString(16)).toBe('a2b2225f');
      expect([0, 1, 777, 5003, 10000].map((p) => logs[p])).toEqual([
        0.23297811443900907, -2.264586197421926, 0.1382341798636745, -2.819000714560175, -0.48040253580877634,
      ]);
      expect(gen.slow.nextUint32()).toBe(441239941);
      expect(Array.from(gen.lanes.subarray(0, 4))).toEqual([637784200, -1296046526, 596556563, -351703336]);
    }
  });

  it('fuses the log-space step bit for bit: addLaneSteps = fill normals, then add (rejections included)', () => {
    const count = 50_000; // ~350 slow-path draws
    const start = Float64Array.from({ length: count }, (_, p) => Math.sin(p));
    const zs = new Float64Array(count);
    const a = BlockNormals.forBlock(5, 9);
    fillLaneNormals(a, zs);
    const expected = start.map((x, p) => x + (0.0003 + 0.0126 * zs[p]));
    const logs = start.slice();
    const b = BlockNormals.forBlock(5, 9);
    addLaneSteps(b, logs, count, 0.0003, 0.0126);
    expect(bytesOf(logs)).toEqual(bytesOf(expected));
    expect(Array.from(b.lanes)).toEqual(Array.from(a.lanes));
    expect(b.slow.nextUint32()).toBe(a.slow.nextUint32());
  });

  it('runs several steps in one call exactly as one call per step (kernel and JS, one chunk and several)', () => {
    for (const count of [4096, 9001]) {
      const once = Float64Array.from({ length: count }, (_, p) => Math.cos(p));
      const each = once.slice();
      const js = once.slice();
      const a = BlockNormals.forBlock(77, 3);
      const b = BlockNormals.forBlock(77, 3);
      const c = BlockNormals.forBlock(77, 3);
      addLaneStepsWasm(a, once, count, 0.0004, 0.9, 7); // a large vol: plenty of slow-path draws
      for (let s = 0; s < 7; s++) addLaneStepsWasm(b, each, count, 0.0004, 0.9);
      addLaneStepsJs(c, js, count, 0.0004, 0.9, 7);
      expect(bytesOf(once)).toEqual(bytesOf(each));
      expect(bytesOf(js)).toEqual(bytesOf(each));
      expect(Array.from(a.lanes)).toEqual(Array.from(b.lanes));
      const next = b.slow.nextUint32();
      expect(a.slow.nextUint32()).toBe(next);
      expect(c.slow.nextUint32()).toBe(next);
    }
  });

  it('classifies band values against bracket edges identically on the kernel and in JS', () => {
    for (const count of [4096, 4093, 3, 0]) {
      const logs = blockLogs(count);
      for (let p = 0; p < count; p++) logs[p] = 0.3 * Math.sin(p * 0.37) ** 3;
      const edges = Float32Array.from([-0.2, -0.19, -0.05, -0.04, 0, 0.001, 0.04, 0.05, 0.19, 0.2]);
      // Values exactly on an edge (as float32) must fall the same way on both sides.
      if (count > 10) for (let i = 0; i < BAND_EDGES; i++) logs[i] = edges[i];
      // Edges and counts at offsets, as the band brackets keep them per point and block.
      const edgeTable = Float32Array.from([9, 9, 9, ...edges]);
      const run = (kernelView: boolean) => {
        const atOrAbove = new Int32Array(BAND_EDGES + 5);
        const values = new Float32Array(4096);
        const brackets = new Uint8Array(4096);
        const m = kernelView
          ? classifyBands(logs, count, edgeTable, 3, atOrAbove, 5, values, brackets)
          : classifyBandsJs(logs.slice(), 0, count, edgeTable, 3, atOrAbove, 5, values, brackets, 0);
        expect(Array.from(atOrAbove.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
        return { atOrAbove: Array.from(atOrAbove.subarray(5)), values: Array.from(values.subarray(0, m)), brackets: Array.from(brackets.subarray(0, m)) };
      };
      const kernel = run(true);
      const js = run(false);
      expect(kernel).toEqual(js);
      // Independent count: v >= e_i on the float32 rounding, and bracket k = [e_2k, e_2k+1).
      for (let i = 0; i < BAND_EDGES; i++) {
        let n = 0;
        for (let p = 0; p < count; p++) if (Math.fround(logs[p]) >= edges[i]) n++;
        expect(kernel.atOrAbove[i], `edge ${i}, count ${count}`).toBe(n);
      }
      const inside = Array.from(logs, (x) => Math.fround(x)).filter((v) => [0, 1, 2, 3, 4].some((k) => v >= edges[2 * k] && v < edges[2 * k + 1]));
      expect(kernel.values).toEqual(inside);
    }
  });
});

/** Correlation 0.6^|i - j| (positive definite for any k), its factor and per-asset steps. */
function correlatedStep(k: number, volScale = 1): CorrelatedStep {
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] = 0.6 ** Math.abs(i - j);
  const factor = cholesky(a, k);
  if (!factor.ok) throw new Error('test correlation not positive definite');
  return {
    assets: k,
    cholesky: factor.lower,
    drift: Float64Array.from({ length: k }, (_, i) => 0.0003 - 0.0001 * i),
    vol: Float64Array.from({ length: k }, (_, i) => volScale * (0.0126 + 0.003 * i)),
  };
}

/** The first index where two arrays differ bit for bit, or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new BigInt64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigInt64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('correlated steps of several assets (addCorrelatedSteps)', () => {
  it('step each asset by drift + vol (L z) from the lane scheme\'s normals, path p asset j at z[p k + j]', () => {
    const k = 3;
    const count = 1001; // odd: the kernel's last path of a chunk runs alone
    const s = correlatedStep(k);
    const z = new Float64Array(k * count);
    const a = BlockNormals.forBlock(31, 4);
    fillLaneNormals(a, z);
    const start = Float64Array.from({ length: k * count }, (_, i) => Math.sin(i));
    const expected = start.slice();
    for (let p = 0; p < count; p++) {
      for (let i = 0; i < k; i++) {
        let e = 0;
        for (let j = 0; j <= i; j++) e += s.cholesky[i * k + j] * z[p * k + j];
        expected[i * count + p] += s.drift[i] + s.vol[i] * e;
      }
    }
    const logs = blockAssetLogs(k, count);
    logs.set(start);
    const b = BlockNormals.forBlock(31, 4);
    addCorrelatedSteps(b, logs, count, s);
    expect(firstDifference(logs, expected)).toBe(-1);
    expect(Array.from(b.lanes)).toEqual(Array.from(a.lanes));
    expect(b.slow.nextUint32()).toBe(a.slow.nextUint32());
  });

  it('give bit-identical log-prices and generator states on the kernel and in JS (2 to 64 assets, odd counts, several steps)', () => {
    const cases: [assets: number, count: number, steps: number, volScale: number][] = [
      [2, 4096, 3, 1],
      [3, 4096, 5, 1],
      [3, 4095, 2, 60], // large vols: many slow-path draws in every chunk
      [3, 1, 3, 1],
      [4, 2049, 4, 1],
      [5, 777, 2, 1],
      [7, 4096, 2, 1],
      [KERNEL_MAX_ASSETS, 4096, 2, 1],
      [3, 0, 1, 1],
    ];
    for (const [k, count, steps, volScale] of cases) {
      const s = correlatedStep(k, volScale);
      const start = Float64Array.from({ length: k * count }, (_, i) => Math.cos(i));
      const view = blockAssetLogs(k, count);
      view.set(start);
      const plain = start.slice();
      const ga = BlockNormals.forBlock(20240601, 12);
      const gb = BlockNormals.forBlock(20240601, 12);
      addCorrelatedSteps(ga, view, count, s, steps);
      addCorrelatedStepsJs(gb, plain, count, s, steps);
      expect(firstDifference(view, plain), `${k} assets x ${count} paths`).toBe(-1);
      expect(Array.from(ga.lanes)).toEqual(Array.from(gb.lanes));
      expect(ga.slow.nextUint32()).toBe(gb.slow.nextUint32());
    }
  });

  it('run on the kernel in its memory up to KERNEL_MAX_ASSETS assets, in plain arrays beyond', () => {
    const inKernel = blockAssetLogs(KERNEL_MAX_ASSETS, KERNEL_CHUNK);
    const beyond = blockAssetLogs(KERNEL_MAX_ASSETS + 1, 10);
    expect(beyond.buffer).not.toBe(inKernel.buffer);
    expect(beyond.length).toBe((KERNEL_MAX_ASSETS + 1) * 10);
    expect(Array.from(beyond).every((x) => x === 0)).toBe(true);
    // 65 assets step in JavaScript with the same numbers as the reference.
    const s = correlatedStep(KERNEL_MAX_ASSETS + 1);
    const other = new Float64Array(beyond.length);
    addCorrelatedSteps(BlockNormals.forBlock(3, 1), beyond, 10, s, 2);
    addCorrelatedStepsJs(BlockNormals.forBlock(3, 1), other, 10, s, 2);
    expect(firstDifference(beyond, other)).toBe(-1);
  });

  it('finish rejected draws through every slow-path route with the same numbers as JS', () => {
    const routes = [
      { parabolas: false, nearTie: 1e-12 },
      { parabolas: false, nearTie: 1e300 }, // every wedge draw handed to JavaScript
    ];
    try {
      for (const route of routes) {
        setKernelSlowPathForTesting(route);
        const s = correlatedStep(3, 30);
        const view = blockAssetLogs(3, 4096);
        const plain = new Float64Array(3 * 4096);
        addCorrelatedSteps(BlockNormals.forBlock(77, 3), view, 4096, s, 3);
        addCorrelatedStepsJs(BlockNormals.forBlock(77, 3), plain, 4096, s, 3);
        expect(firstDifference(view, plain), JSON.stringify(route)).toBe(-1);
      }
    } finally {
      setKernelSlowPathForTesting({ parabolas: true, nearTie: 1e-12 });
    }
  });
});

describe('portfolio values of a block of several assets (assetValues)', () => {
  it('sum 0 + w_0 e^x_0 + ... in asset order with polynomialExp, bit-identical on the kernel and in JS (odd counts, |x| > 700)', () => {
    const cases: [assets: number, count: number][] = [[2, 4096], [3, 4096], [3, 4095], [3, 1], [5, 777], [KERNEL_MAX_ASSETS, 4096], [3, 0]];
    for (const [k, count] of cases) {
      for (const terminal of [false, true]) {
        // Log-prices of everyday size, with a few far beyond the polynomial's range.
        const start = Float64Array.from({ length: k * count }, (_, i) => (i % 997 === 5 ? (i % 2 ? 745 : -800) : 0.7 * Math.sin(i * 1.7)));
        const weights = Float64Array.from({ length: k }, (_, a) => (a % 3 === 1 ? -0.25 : 1.5 / k));
        const prices = terminal ? Float64Array.from({ length: k }, (_, a) => 10 + 7 * a) : null;
        const view = blockAssetLogs(k, count);
        view.set(start);
        const plain = start.slice();
        const [v1, v2] = [new Float64Array(count), new Float64Array(count)];
        const [f1, f2] = [new Float32Array(count), new Float32Array(count)];
        assetValues(view, k, count, weights, v1, terminal ? null : f1, prices);
        assetValuesJs(plain, k, count, weights, v2, terminal ? null : f2, prices);
        const label = `${k} assets x ${count} paths, terminal ${terminal}`;
        expect(bytesOf(v1), label).toEqual(bytesOf(v2));
        expect(bytesOf(f1), label).toEqual(bytesOf(f2));
        expect(firstDifference(view, plain), label).toBe(-1);
        // What they compute: the weighted sum of growth factors, float32 roundings, prices.
        for (const p of [0, count >> 1, count - 1].filter((p) => p >= 0 && p < count)) {
          let v = 0;
          for (let a = 0; a < k; a++) v += weights[a] * polynomialExp(start[a * count + p]);
          expect(v1[p], label).toBe(v);
          if (!terminal) expect(f1[p], label).toBe(Math.fround(v));
          if (prices) for (let a = 0; a < k; a++) expect(view[a * count + p]).toBe(prices[a] * polynomialExp(start[a * count + p]));
        }
      }
    }
  });
});

