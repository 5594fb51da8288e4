import { describe, expect, it } from 'vitest';
import { matrixJsonChunks, matrixRows } from '../../../shared/models/markowitz/matrixJson.js';
import { helperThread, matrixJsonOnHelperThread } from '../../../shared/parallel/helperThread.js';

const text = (chunks: readonly Uint8Array[]) => Buffer.concat(chunks).toString('utf8');

describe('the covariance as JSON bytes', () => {
  it('is JSON.stringify of its rows, byte for byte, over several chunks and every kind of number', () => {
    const p = 300; // 90,000 numbers, ~1.7 MB: more than one 1 MB chunk
    const values = new Float64Array(p * p);
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < values.length; k++) values[k] = (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    const special = [-0, 0, NaN, Infinity, -Infinity, 5e-324, -Number.MAX_VALUE, 1e21, 1e-7, 0.1, 123456789012345680000, 2 ** 53 + 2];
    special.forEach((v, k) => (values[k * 7] = v));
    const chunks = matrixJsonChunks(values, p);
    expect(chunks.length).toBeGreaterThan(1);
    expect(text(chunks)).toBe(JSON.stringify(matrixRows(values, p)));
  });

  it('writes an empty matrix as [] and a 1 x 1 one as [[x]]', () => {
    expect(text(matrixJsonChunks(new Float64Array(0), 0))).toBe('[]');
    expect(text(matrixJsonChunks(Float64Array.of(0.25), 1))).toBe('[[0.25]]');
  });

  it('comes back from the helper thread as the same bytes, handed over rather than copied', async () => {
    expect(helperThread(), 'a helper thread on this machine').not.toBeNull();
    const p = 50;
    const values = Float64Array.from({ length: p * p }, (_, k) => Math.sin(k) / (k + 1));
    const chunks = await matrixJsonOnHelperThread(values, p);
    expect(chunks).not.toBeNull();
    expect(text(chunks!)).toBe(JSON.stringify(matrixRows(values, p)));
  });
});
