import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/job/jobDigest.js';
import { referenceCanonicalJson } from '../support/digestDocuments.js';

// The reference: a plain recursive writer (objects' keys sorted as strings).
const reference = referenceCanonicalJson;

describe('canonical JSON of a large array written with its own key list', () => {
  it('equals sorted-keys JSON whatever keys its elements and the rest of the document have', () => {
    // Elements with different key sets, nested objects and arrays, undefined members and holes;
    // keys named like Object.prototype's, and other keys only outside the array.
    const items = Array.from({ length: 3000 }, (_, i) => {
      if (i % 7 === 0) return [i, { z: i, a: [{ k: 1, constructor: 'c' }] }];
      if (i % 11 === 0) return null;
      return { strike: i / 3, ...(i % 2 ? { toString: 'x', nested: { b: -0, a: 1e-7 } } : { option_type: 'put', gone: undefined }), valueOf: i % 3 ? 1 : undefined };
    });
    const doc = { zeta: { constructor: 1, hasOwnProperty: 2 }, options: items, alpha: [items.slice(0, 5)], outside: { only_here: true } };
    expect(canonicalJson(doc)).toBe(reference(doc));
    expect(canonicalJson(items)).toBe(reference(items));
  });
});
