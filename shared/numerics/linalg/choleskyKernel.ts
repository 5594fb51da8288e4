import { instantiateWasm } from '../wasmInstance.js';

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
  const instance = instantiateWasm(new URL('./choleskyKernel.wasm', import.meta.url));
  if (!instance) return (kernel = null);
  return (kernel = {
    memory: instance.exports.memory as WebAssembly.Memory,
    tile: instance.exports.tile as CholeskyKernel['tile'],
  });
}
