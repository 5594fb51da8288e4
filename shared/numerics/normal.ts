/**
 * The standard normal distribution to full double precision, tails included.
 *
 * jstat's `normal.cdf` goes through `0.5 * erfc(-x / sqrt 2)` with a Chebyshev erfc good to
 * about 1e-7 relative and loses everything below x = -10 or so (test/models/normal.test.ts
 * measures it against mpmath), which is too coarse for option prices that must hold 1e-12;
 * so we use W. J. Cody's rational approximations (Math. Comp. 23, 1969; netlib specfun
 * CALERF), as Jaeckel's "Let's Be Rational" does.
 */

const SQRT_HALF = Math.SQRT1_2;
const INV_SQRT_2PI = 0.398942280401432677939946059934;
const SQRT_2PI = 2.50662827463100050241576528481;
const INV_SQRT_PI = 0.564189583547756286948079451561;

// Cody, |y| <= 0.46875: erf(y) = y * P(y^2) / Q(y^2).
const A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
// Cody, 0.46875 < y <= 4: erfc(y) = exp(-y^2) * P(y) / Q(y).
const C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
// Cody, y > 4: erfc(y) = exp(-y^2) / y * (1/sqrt(pi) + 1/y^2 * P(1/y^2) / Q(1/y^2)).
const P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4,
  0.0163153871373020978,
];
const Q = [2.56852019228982242, 1.87295284992346725, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];

function erfSmall(y: number): number {
  const ysq = y * y;
  let num = A[4] * ysq;
  let den = ysq;
  for (let i = 0; i < 3; i++) {
    num = (num + A[i]) * ysq;
    den = (den + B[i]) * ysq;
  }
  return (y * (num + A[3])) / (den + B[3]);
}

/** erfc(y) * exp(y^2) for y > 0.46875 (Cody's rational factor, without the Gaussian). */
function erfcRational(y: number): number {
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    return (num + C[7]) / (den + D[7]);
  }
  const z = 1 / (y * y);
  let num = P[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]) * z;
    den = (den + Q[i]) * z;
  }
  return (INV_SQRT_PI - (z * (num + P[4])) / (den + Q[4])) / y;
}

/**
 * exp(-u^2 / 2) without the rounding of u*u: with u = hi + lo, hi = trunc(16 u) / 16 is short
 * enough that hi^2 is exact, and u^2 = hi^2 + (u - hi)(u + hi). A plain exp(-u*u/2) would carry
 * a relative error of about u^2 * eps (1e-13 at u = 38).
 */
function gaussian(u: number): number {
  const hi = Math.trunc(u * 16) / 16;
  return Math.exp(-0.5 * hi * hi) * Math.exp(-0.5 * (u - hi) * (u + hi));
}

/**
 * Complementary error function, relative error a few ulps over the whole line.
 * @param y any real
 * @returns erfc(y), in [0, 2]
 */
export function erfc(y: number): number {
  if (Number.isNaN(y)) return Number.NaN;
  const ay = Math.abs(y);
  if (ay <= 0.46875) return 1 - erfSmall(y);
  if (ay >= 26.55) return y > 0 ? 0 : 2; // erfc(26.55) < 1e-308
  const hi = Math.trunc(ay * 16) / 16;
  const tail = Math.exp(-hi * hi) * Math.exp(-(ay - hi) * (ay + hi)) * erfcRational(ay);
  return y > 0 ? tail : 2 - tail;
}

/**
 * Standard normal density.
 * @param x any real
 * @returns exp(-x^2/2) / sqrt(2 pi)
 */
export function normalPdf(x: number): number {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? Number.NaN : 0;
  return INV_SQRT_2PI * gaussian(x);
}

/**
 * Standard normal cumulative distribution, relative error a few ulps for every x (the lower
 * tail is computed directly, never as 1 - cdf(-x)).
 * @param x any real
 * @returns P(Z <= x)
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const y = -x * SQRT_HALF;
  if (Math.abs(y) <= 0.46875) return 0.5 - 0.5 * erfSmall(y);
  if (x < -38.5) return 0; // Phi(-38.5) < 1e-323
  if (x > 8.5) return 1; // 1 - Phi(8.5) < eps / 2
  // Gaussian factor from x itself, not from y = -x / sqrt 2: y carries a rounding error that
  // exp(-y^2) would amplify by y^2. The rational factor is insensitive to it.
  const tail = 0.5 * gaussian(x) * erfcRational(Math.abs(y));
  return x < 0 ? tail : 1 - tail;
}

// Acklam's rational approximation of the normal quantile (relative error < 1.15e-9),
// polished below by one Halley step on normalCdf.
const AQ = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const BQ = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const CQ = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const DQ = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/**
 * Inverse of the standard normal cdf.
 * @param p probability in [0, 1]
 * @returns x with normalCdf(x) = p (-Infinity at 0, Infinity at 1, NaN outside)
 */
export function inverseNormalCdf(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  // Work in the lower tail where p is small and exact; the upper tail by symmetry.
  const upper = p > 0.5;
  const pl = upper ? 1 - p : p;
  let x: number;
  if (pl < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(pl));
    x = (((((CQ[0] * q + CQ[1]) * q + CQ[2]) * q + CQ[3]) * q + CQ[4]) * q + CQ[5]) /
      ((((DQ[0] * q + DQ[1]) * q + DQ[2]) * q + DQ[3]) * q + 1);
  } else {
    const q = pl - 0.5;
    const r = q * q;
    x = ((((((AQ[0] * r + AQ[1]) * r + AQ[2]) * r + AQ[3]) * r + AQ[4]) * r + AQ[5]) * q) /
      (((((BQ[0] * r + BQ[1]) * r + BQ[2]) * r + BQ[3]) * r + BQ[4]) * r + 1);
  }
  // Halley step: e = Phi(x) - p, u = e / phi(x); x -= u / (1 + x u / 2).
  const e = normalCdf(x) - pl;
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  if (Number.isFinite(u)) x -= u / (1 + (x * u) / 2);
  return upper ? -x : x;
}
