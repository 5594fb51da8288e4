import { instantiateWasm } from '../../numerics/wasmInstance.js';

/**
 * G = D D' on the WebAssembly SIMD kernel (crossProductsKernel.wat): the same 4 x 4 tiles over
 * chunks of observations as the JavaScript in returnMoments.ts, two observations a vector.
 * The sums are reassociated, so G differs from the JavaScript's by a few ulps.
 */
interface Kernel {
  readonly memory: WebAssembly.Memory;
  readonly tiles: (p: number, n: number, g: number, t0: number, t1: number, first: number, step: number) => void;
}

/** Undefined before the first use, null where the runtime has no WebAssembly SIMD. */
let kernel: Kernel | null | undefined;

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  const instance = instantiateWasm(new URL('./crossProductsKernel.wasm', import.meta.url));
  if (!instance) return (kernel = null);
  return (kernel = {
    memory: instance.exports.memory as WebAssembly.Memory,
    tiles: instance.exports.tiles as Kernel['tiles'],
  });
}

/** Whether crossProductsSimd can run here. */
export function crossProductsKernelAvailable(): boolean {
  return loadKernel() !== null;
}

/** Which 4-row tile rows of G to compute: `first`, `first + step`, ... (two threads: 0 and 1, step 2). */
export interface TileRows {
  readonly first: number;
  readonly step: number;
}

/** Every tile row: one thread's share. */
export const ALL_TILE_ROWS: TileRows = { first: 0, step: 1 };

/**
 * The 4 x 4 tiles of the lower triangle of G = D D' (p*p row-major) in the tile rows `rows`,
 * for D (p*n row-major), or null without WebAssembly SIMD. Other entries are zero, and the
 * rows past the last multiple of 4 are left to the caller (as is the mirror). A tile's sums
 * run in the same order whichever thread computes it, so tile rows computed apart and put
 * together equal G computed at once, bit for bit.
 * @param chunk observations per pass (a multiple of 2), so that four rows stay in cache
 */
export function crossProductsSimd(d: Float64Array, p: number, n: number, chunk: number, rows: TileRows = ALL_TILE_ROWS): Float64Array<ArrayBuffer> | null {
  const k = loadKernel();
  if (!k) return null;
  const gOffset = d.byteLength;
  const needed = gOffset + p * p * 8;
  if (needed > 2 ** 31) return null; // past the kernel's i32 addressing: the JavaScript path
  const missing = needed - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
  new Float64Array(k.memory.buffer, 0, d.length).set(d);
  const g = new Float64Array(k.memory.buffer, gOffset, p * p);
  g.fill(0);
  const full = p - (p % 4);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const t1 = Math.min(n, t0 + chunk);
    const even = t0 + ((t1 - t0) & ~1);
    k.tiles(p, n, gOffset, t0, even, rows.first, rows.step);
    // An odd last observation: its products for every tile, in JavaScript.
    for (let t = even; t < t1; t++) {
      for (let i = 4 * rows.first; i < full; i += 4 * rows.step) {
        for (let j = 0; j <= i; j += 4) {
          for (let r = 0; r < 4; r++) {
            const a = d[(i + r) * n + t];
            for (let c = 0; c < 4; c++) g[(i + r) * p + j + c] += a * d[(j + c) * n + t];
          }
        }
      }
    }
  }
  return g.slice();
}

/** Copies the tiles of tile rows `rows` (lower triangle, 4-row blocks) from `from` into `to`, both p*p. */
export function copyTileRows(from: Float64Array, to: Float64Array, p: number, rows: TileRows): void {
  const full = p - (p % 4);
  for (let i = 4 * rows.first; i < full; i += 4 * rows.step) {
    for (let r = 0; r < 4; r++) {
      const at = (i + r) * p;
      to.set(from.subarray(at, at + i + 4), at);
    }
  }
}
