/**
 * e^x as the several-asset WebAssembly kernel computes it (normalStepKernel.wat's
 * assetValues, two lanes at once), in JavaScript, operation for operation, so the kernel and
 * its JavaScript route give the same numbers bit for bit. Within one ulp of Math.exp (itself
 * within about an ulp of e^x) for |x| <= 700, tested: k = round(x / ln 2) with ties to even,
 * r = (x - k ln2hi) - k ln2lo with ln2hi's 32 significant bits making k ln2hi exact
 * (|r| <= ln 2 / 2 + 1e-16), e^r = 1 + (r + r^2 P(r)) with P the Taylor polynomial of terms
 * 1/2! .. 1/13! (truncation below 5e-18 relative) grouped by Estrin's scheme, times 2^k.
 * Beyond |x| > 700, where 2^k leaves the normal range, it is Math.exp(x). Why not Math.exp
 * everywhere: WebAssembly cannot call it cheaply per value, and this polynomial runs two
 * lanes at a time there at a fraction of its cost.
 */

/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude below 2^51 to an integer, ties to even. */
const ROUND = 6755399441055744;
const LOG2E = 1.4426950408889634;
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
/** 1/2!, 1/3!, ..., 1/13!: P's coefficients, lowest first. */
const TAYLOR = [
  0.5, 0.16666666666666666, 0.041666666666666664, 0.008333333333333333, 0.001388888888888889, 0.0001984126984126984,
  0.0000248015873015873, 0.0000027557319223985893, 2.755731922398589e-7, 2.505210838544172e-8, 2.08767569878681e-9,
  1.6059043836821613e-10,
];
const [C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13] = TAYLOR;
/** Beyond this |x|, Math.exp (2^k would leave the normal range). */
const LIMIT = 700;

/**
 * The kernel's constants (normalStepKernel.wat $exp reads them from its memory, where the
 * loader writes this table): LOG2E, ROUND, LN2_HI, LN2_LO, TAYLOR, 1, LIMIT, and last, as an
 * int64, the bits of ROUND less 1023 (the bits of k + ROUND less these are k + 1023).
 */
export const EXP_TABLE: Float64Array = (() => {
  const table = new Float64Array([LOG2E, ROUND, LN2_HI, LN2_LO, ...TAYLOR, 1, LIMIT, 0]);
  const bits = new BigInt64Array(table.buffer);
  bits[table.length - 1] = new BigInt64Array(Float64Array.of(ROUND).buffer)[0] - 1023n;
  return table;
})();

/** 2^k for k = -1022 .. 1023 (exact: repeated doubling and halving of 1). */
const POWERS = (() => {
  const out = new Float64Array(2046);
  out[1022] = 1;
  for (let k = 1; k <= 1023; k++) out[1022 + k] = out[1021 + k] * 2;
  for (let k = 1; k <= 1022; k++) out[1022 - k] = out[1023 - k] / 2;
  return out;
})();

export function polynomialExp(x: number): number {
  if (!(Math.abs(x) <= LIMIT)) return Math.exp(x);
  const k = x * LOG2E + ROUND - ROUND;
  const r = x - k * LN2_HI - k * LN2_LO;
  // P(r) by Estrin's scheme, exactly as the kernel groups it.
  const r2 = r * r;
  const r4 = r2 * r2;
  const p = C2 + C3 * r + (C4 + C5 * r) * r2 + (C6 + C7 * r + (C8 + C9 * r) * r2) * r4 + (C10 + C11 * r + (C12 + C13 * r) * r2) * (r4 * r4);
  return (1 + (r + r2 * p)) * POWERS[1022 + k];
}
