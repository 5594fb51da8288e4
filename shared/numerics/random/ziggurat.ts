import type { Xoshiro128 } from './xoshiro128.js';

/**
 * Standard normal variates by the ziggurat method of Marsaglia & Tsang, "The Ziggurat
 * Method for Generating Random Variables", J. Stat. Software 5(8), 2000, with 256 layers
 * (r = 3.6541528853610088, layer area v = 0.00492867323399, their published constants).
 *
 * Each fast-path variate takes one xoshiro128** output word, split like numpy's float32 ziggurat
 * (random_standard_normal_f): the low 8 bits pick the layer, the upper 24 bits, read as a
 * signed integer, are the sign and a 23-bit position inside the layer. Layer and position
 * come from disjoint bits, which avoids the correlation of the original RNOR (it reused the
 * same 32 bits for both). Values fall on a grid of x[i] / 2^23 within a layer (< 4.4e-7),
 * far below any Monte Carlo error a job can reach (1e-7 would need 1e14 paths); a 64-bit
 * variant measured ~40% slower end to end for no visible gain. About 99.3% of
 * draws take the fast path (one integer compare, one multiply); the rest test the wedge
 * or sample the tail beyond r with Marsaglia's exponential method, using extra uniforms.
 * Using the low 8 bits for the layer is sound because xoshiro128**'s `**` scrambler leaves
 * no weak low bits (only the `+` variant has low-linear-complexity low bits).
 *
 * This module holds the tables and the slow path; the fast path runs fused with the
 * log-price step in normalStepKernel.ts (a WebAssembly SIMD kernel over four generator lanes,
 * and its bit-identical JavaScript reference), which hands its rejected draws to slowNormal
 * (the kernel runs its own op-for-op copy of it, normalStepKernel.wat finish).
 */

const LAYERS = 256;
const R = 3.6541528853610088;
const V = 0.00492867323399;
const TWO23 = 8388608;

const density = (x: number) => Math.exp(-0.5 * x * x);

/** x[i]: right edge of layer i (x[0] is the base strip's virtual width v / f(r)), x[256] = 0. */
const edges = new Float64Array(LAYERS + 1);
/** f(x[i]) */
const heights = new Float64Array(LAYERS + 1);
/**
 * Fast path. The position is a signed 24-bit j read as the midpoint (j + 0.5) / 2^23, a
 * symmetric value in (-1, 1) whose sign is the variate's (no unpredictable branch on the
 * sign). Its magnitude is (j ^ (j >> 31)) + 0.5; the draw is inside layer i's core when
 * that is below (x[i+1] / x[i]) * 2^23, i.e. when j ^ (j >> 31) < (x[i+1] / x[i]) * 2^23 - 0.5,
 * or equivalently (j ^ (j >> 31) is an integer) below the ceiling of that bound, stored as
 * an int32 so the compare stays in integer registers.
 */
const thresholds = new Int32Array(LAYERS);
/** Scale from the position (j + 0.5) to x: x[i] / 2^23. */
const scales = new Float64Array(LAYERS);

edges[0] = V / density(R);
edges[1] = R;
for (let i = 1; i < LAYERS - 1; i++) {
  // Layer i spans heights f(x[i])..f(x[i+1]) with area x[i] * (f(x[i+1]) - f(x[i])) = v.
  edges[i + 1] = Math.sqrt(-2 * Math.log(V / edges[i] + density(edges[i])));
}
edges[LAYERS] = 0;
for (let i = 0; i <= LAYERS; i++) heights[i] = density(edges[i]);
for (let i = 0; i < LAYERS; i++) {
  thresholds[i] = Math.ceil((edges[i + 1] / edges[i]) * TWO23 - 0.5);
  scales[i] = edges[i] / TWO23;
}


/**
 * The slow path: wedge test or tail for layer `layer` (a fast-path rejection), redrawing
 * from `rng` until a variate is accepted.
 */
export function slowNormal(rng: Xoshiro128, layer: number, position: number): number {
  let i = layer;
  let j = position;
  for (;;) {
    const x = (j + 0.5) * scales[i];
    const neg = j < 0;
    if ((j ^ (j >> 31)) < thresholds[i]) return x;
    if (i === 0) {
      // Tail beyond r: Marsaglia (1964), x = -ln(u1)/r accepted when -2 ln(u2) > x^2.
      let tx: number;
      let ty: number;
      do {
        tx = -Math.log(1 - rng.nextDouble()) / R;
        ty = -Math.log(1 - rng.nextDouble());
      } while (ty + ty < tx * tx);
      return neg ? -(R + tx) : R + tx;
    }
    // Wedge: uniform height inside layer i, accepted under the curve.
    if (heights[i] + rng.nextDouble() * (heights[i + 1] - heights[i]) < density(x)) return x;
    const w = rng.nextUint32() | 0;
    i = w & 0xff;
    j = w >> 8;
  }
}

/** The layer edges (x[0..256]) for tests of the table construction. */
export function zigguratEdges(): Float64Array {
  return edges.slice();
}

/**
 * The tables for the fused kernels (normalStepKernel.ts): the fast path's thresholds[i] and
 * scales[i] as described above, and the slow path's heights[i] = f(x[i]) for i = 0..256
 * (shared arrays: read only).
 */
export function zigguratTables(): { readonly thresholds: Int32Array; readonly scales: Float64Array; readonly heights: Float64Array } {
  return { thresholds, scales, heights };
}
