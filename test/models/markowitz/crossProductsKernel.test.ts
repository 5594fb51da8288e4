import { describe, expect, it } from 'vitest';
import { crossProductsKernelAvailable } from '../../../shared/models/markowitz/crossProductsKernel.js';
import { returnMoments, returnMomentsInTwo, type TileRowsHelper } from '../../../shared/models/markowitz/returnMoments.js';
import { helperThread, tileRowsOnHelperThread } from '../../../shared/parallel/helperThread.js';

let seed = 9;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;

describe('cross products of demeaned returns', () => {
  it('runs on the WebAssembly SIMD kernel in this Node', () => {
    expect(crossProductsKernelAvailable()).toBe(true);
  });

  it('equal plain dot products to 1e-14 relative, for any number of assets and observations', () => {
    for (const [p, n] of [[4, 2], [5, 3], [8, 513], [13, 1024], [30, 1259], [9, 1]] as const) {
      const values = Float64Array.from({ length: p * n }, () => 0.01 * random());
      const { demeaned, crossProducts } = returnMoments({ assets: p, observations: n, values });
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          let s = 0;
          for (let t = 0; t < n; t++) s += demeaned[i * n + t] * demeaned[j * n + t];
          const scale = Math.sqrt(crossProducts[i * p + i] * crossProducts[j * p + j]) || 1;
          expect(Math.abs(crossProducts[i * p + j] - s) / scale, `p ${p} n ${n} (${i}, ${j})`).toBeLessThan(1e-14);
          expect(crossProducts[i * p + j]).toBe(crossProducts[j * p + i]);
        }
      }
    }
  });
});

describe('cross products on two threads', () => {
  it('equal those of one thread bit for bit, every other tile row computed by the helper thread', async () => {
    expect(helperThread(), 'a helper thread on this machine').not.toBeNull();
    const helper = tileRowsOnHelperThread();
    // Large enough to be split (p^2 n / 2 >= 2e8), p not a multiple of 4, n odd within a chunk.
    for (const [p, n] of [[403, 2519], [320, 3907]] as const) {
      const values = Float64Array.from({ length: p * n }, () => 0.01 * random());
      const one = returnMoments({ assets: p, observations: n, values });
      let calls = 0;
      const counted: TileRowsHelper = { tileRows: (...args) => (calls++, helper!.tileRows(...args)) };
      const two = await returnMomentsInTwo({ assets: p, observations: n, values }, counted);
      expect(calls).toBe(1);
      expect(two.crossProducts).toEqual(one.crossProducts);
      expect(two.means).toEqual(one.means);
      // And the helper's own tiles are those rows of G (not this thread's fallback).
      const theirs = await helper!.tileRows(two.demeaned, p, n, 512, { first: 1, step: 2 });
      expect(theirs![4 * p + 2]).toBe(one.crossProducts[4 * p + 2]);
      expect(theirs![2]).toBe(0);
    }
  });
});
