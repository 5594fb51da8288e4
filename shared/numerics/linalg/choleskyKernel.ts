import { readFileSync } from 'node:fs';

/**
 * The inner products of the blocked Cholesky factorization on a WebAssembly SIMD kernel
 * (choleskyKernel.wat): 4 x 4 tiles of row prefixes of L, two terms a vector.
 */
export interface CholeskyKernel {
  readonly memory: WebAssembly.Memory;
  /** S (16 sums, at byte 0) of rows at byte offsets `a` and `b` of L, `stride` bytes a row, over k < k1 (even). */
  readonly tile: (a: number, b: number, stride: number, k1: number) => void;
}

/** Where L starts in the kernel's memory (the 16 sums come first). */
export const FACTOR_OFFSET = 128;

/** Undefined before the first use, null where the runtime has no WebAssembly SIMD. */
let kernel: CholeskyKernel | null | undefined;

/** The kernel, or null without WebAssembly SIMD. */
export function choleskyKernel(): CholeskyKernel | null {
  if (kernel !== undefined) return kernel;
  const url = new URL('./choleskyKernel.wasm', import.meta.url);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(url));
  } catch (cause) {
    throw new Error('choleskyKernel.wasm is missing beside its module: run `node scripts/buildWasm.mjs` (npm test and npm run build do).', { cause });
  }
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return (kernel = null);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (kernel = {
    memory: instance.exports.memory as WebAssembly.Memory,
    tile: instance.exports.tile as CholeskyKernel['tile'],
  });
}
