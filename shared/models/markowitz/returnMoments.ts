import { copyTileRows, crossProductsSimd, type TileRows } from './crossProductsKernel.js';
import type { AssetReturns } from './returns.js';

/**
 * First and second moments of returns, shared by both covariance estimators:
 * per-asset means, the demeaned returns (asset-major, like {@link AssetReturns}) and
 * their cross-product matrix G = D D' (p*p row-major, unscaled).
 */
export interface ReturnMoments {
  readonly assets: number;
  readonly observations: number;
  readonly means: Float64Array;
  readonly demeaned: Float64Array;
  readonly crossProducts: Float64Array;
}

/** Width of a chunk of observations: four asset rows of it stay in L1 cache across a tile. */
const observationChunk = 512;

/**
 * Means, demeaned returns and the p*p cross products of the demeaned returns.
 * Demeaning before multiplying (rather than G - n m m') avoids cancellation for assets with
 * large mean relative to their spread.
 */
export function returnMoments(returns: AssetReturns): ReturnMoments {
  const { means, demeaned } = demean(returns, false);
  const { assets: p, observations: n } = returns;
  return { assets: p, observations: n, means, demeaned, crossProducts: crossProducts(demeaned, p, n) };
}

/**
 * Another thread that computes tile rows of G = D D' (crossProductsSimd) from D in shared
 * memory: null when it cannot (no WebAssembly SIMD there), and this thread does them.
 */
export interface TileRowsHelper {
  tileRows(d: Float64Array, p: number, n: number, chunk: number, rows: TileRows): Promise<Float64Array | null>;
}

/**
 * From this many multiply-adds (p^2 n / 2) on, the cross products are worth a second thread
 * (1,000 assets x 2,520 days: 1.3e9, ~0.4 s; 200 x 1,260: 2.5e7, ~10 ms, less than starting it).
 */
const HELPER_WORK = 200_000_000;

/**
 * The same moments, with every other tile row of the cross products computed by `helper`
 * while this thread computes the others: bit for bit those of returnMoments (each tile sums
 * in the same order), in about half the time on two cores.
 */
export async function returnMomentsInTwo(returns: AssetReturns, helper: TileRowsHelper | null): Promise<ReturnMoments> {
  const { assets: p, observations: n } = returns;
  if (!helper || p < 8 || (p * p * n) / 2 < HELPER_WORK) return returnMoments(returns);
  const { means, demeaned } = demean(returns, true);
  const theirs: TileRows = { first: 1, step: 2 };
  const theirTiles = helper.tileRows(demeaned, p, n, observationChunk, theirs).catch(() => null);
  const g = crossProductsSimd(demeaned, p, n, observationChunk, { first: 0, step: 2 });
  if (!g) return { assets: p, observations: n, means, demeaned, crossProducts: crossProducts(demeaned, p, n) };
  copyTileRows((await theirTiles) ?? crossProductsSimd(demeaned, p, n, observationChunk, theirs)!, g, p, theirs);
  leftoverRowsAndMirror(g, demeaned, p, n);
  return { assets: p, observations: n, means, demeaned, crossProducts: g };
}

/** Means and demeaned returns (in shared memory when another thread is to read them). */
function demean(returns: AssetReturns, shared: boolean): { means: Float64Array; demeaned: Float64Array } {
  const { assets: p, observations: n, values } = returns;
  const means = new Float64Array(p);
  const demeaned = shared ? new Float64Array(new SharedArrayBuffer(8 * p * n)) : new Float64Array(p * n);
  for (let k = 0; k < p; k++) {
    const base = k * n;
    let s = 0;
    for (let t = 0; t < n; t++) s += values[base + t];
    const m = s / n;
    means[k] = m;
    for (let t = 0; t < n; t++) demeaned[base + t] = values[base + t] - m;
  }
  return { means, demeaned };
}

/**
 * G = D D' for D (p*n, row-major): the lower triangle in 4x4 register tiles over chunks
 * of observations, then mirrored. Each tile loads 8 values per observation for
 * 16 multiply-adds, about 4x fewer loads than one dot product at a time.
 */
function crossProducts(d: Float64Array, p: number, n: number): Float64Array {
  // The 4x4 tiles on the WebAssembly SIMD kernel where there is one (two observations a
  // vector: about twice as fast at 1,000 assets), else below; rows left over and the mirror here.
  const simd = p >= 4 ? crossProductsSimd(d, p, n, observationChunk) : null;
  const g = simd ?? new Float64Array(p * p);
  const full = p - (p % 4);
  for (let t0 = 0; t0 < n; t0 += observationChunk) {
    const t1 = Math.min(n, t0 + observationChunk);
    for (let i = 0; i < (simd ? 0 : full); i += 4) {
      const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      for (let j = 0; j <= i; j += 4) {
        const c0 = j * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let t = t0; t < t1; t++) {
          const a0 = d[r0 + t], a1 = d[r1 + t], a2 = d[r2 + t], a3 = d[r3 + t];
          const b0 = d[c0 + t], b1 = d[c1 + t], b2 = d[c2 + t], b3 = d[c3 + t];
          s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
          s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
          s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
          s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
        }
        const g0 = i * p + j, g1 = g0 + p, g2 = g1 + p, g3 = g2 + p;
        g[g0] += s00; g[g0 + 1] += s01; g[g0 + 2] += s02; g[g0 + 3] += s03;
        g[g1] += s10; g[g1 + 1] += s11; g[g1 + 2] += s12; g[g1 + 3] += s13;
        g[g2] += s20; g[g2 + 1] += s21; g[g2 + 2] += s22; g[g2 + 3] += s23;
        g[g3] += s30; g[g3 + 1] += s31; g[g3 + 2] += s32; g[g3 + 3] += s33;
      }
    }
  }
  leftoverRowsAndMirror(g, d, p, n);
  return g;
}

/**
 * The rows left over when p is not a multiple of 4 (plain dot products against every column,
 * chunk by chunk as the tiles), then the mirror: tiles on the diagonal also filled a few upper
 * entries, which the mirror overwrites with the lower ones so that G is exactly symmetric.
 */
function leftoverRowsAndMirror(g: Float64Array, d: Float64Array, p: number, n: number): void {
  const full = p - (p % 4);
  for (let t0 = 0; t0 < n; t0 += observationChunk) {
    const t1 = Math.min(n, t0 + observationChunk);
    for (let i = full; i < p; i++) {
      const ri = i * n;
      for (let j = 0; j <= i; j++) {
        const rj = j * n;
        let s = 0;
        for (let t = t0; t < t1; t++) s += d[ri + t] * d[rj + t];
        g[i * p + j] += s;
      }
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) g[j * p + i] = g[i * p + j];
}
