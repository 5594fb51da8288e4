/**
 * Generalized Black-Scholes-Merton (continuous dividend yield) prices and Greeks.
 *
 * Prices go through Jaeckel's normalised Black function ("Let's Be Rational", 2015):
 * V = sqrt(S K) exp(-(r+q)T/2) * b(x, s) with x = ln(F/K), s = sigma sqrt(T). An
 * in-the-money option is its normalised intrinsic value 2 sinh(|x|/2) plus the
 * out-of-the-money option on the other side of the forward (put-call symmetry), so
 * the only hard case is an out-of-the-money call, where S N(d1) - K N(d2) would cancel.
 */
import { normalCdf, normalPdf } from '../../numerics/normal.js';

export type OptionType = 'call' | 'put';

export interface BlackScholesInputs {
  readonly optionType: OptionType;
  readonly spot: number;
  readonly strike: number;
  /** Years. */
  readonly timeToExpiry: number;
  /** Continuously compounded, annual. */
  readonly riskFreeRate: number;
  /** Continuous, annual. */
  readonly dividendYield: number;
  /** Annual. */
  readonly volatility: number;
}

/** Price and the QuantLib AnalyticEuropeanEngine Greeks. */
export interface BlackScholesValuation {
  readonly price: number;
  /** dV/dS. */
  readonly delta: number;
  /** d2V/dS2. */
  readonly gamma: number;
  /** dV/dt per year of calendar time, i.e. -dV/dT (negative for a plain long call). */
  readonly theta: number;
  /** dV/dsigma per 1.00 of volatility. */
  readonly vega: number;
  /** dV/dr per 1.00 of rate, dividend yield held fixed. */
  readonly rho: number;
}

/** A valuation a caller owns and lets blackScholes overwrite (no allocation in batch loops). */
export type BlackScholesValuationBuffer = { -readonly [K in keyof BlackScholesValuation]: number };

/** Below this t = s/2 the two terms of the direct formula cancel; a series in t is used. */
const SMALL_T = 0.21;
const SERIES_TERMS = 23; // odd powers t^1 .. t^23: the next term is < 1e-17 of the sum at t = 0.21
const RECURRENCE_START = 100;

/**
 * ln(S/K) without the division's rounding near the money: for S/K in [1/2, 2], S - K is
 * exact (Sterbenz), so log1p((S-K)/K) is accurate to an ulp of the small result.
 */
export function logMoneyness(spot: number, strike: number): number {
  const ratio = spot / strike;
  return ratio > 0.5 && ratio < 2 ? Math.log1p((spot - strike) / strike) : Math.log(ratio);
}

/**
 * b(x, s) for an out-of-the-money call (x <= 0): exp(x/2) N(h+t) - exp(-x/2) N(h-t),
 * h = x/s, t = s/2. For small t the difference cancels; there we use
 * b = 2 exp(-t^2/2) sum_{k odd} t^k/k! J_k(h), J_k(h) = int_{-h}^inf (z+h)^k phi(z) dz
 * (expand the Mills-ratio difference int_0^inf exp(hu - u^2/2) 2 sinh(tu) du in t), with the
 * partial moments J_k from the backward recurrence J_k / J_{k-1} = k / (J_{k+1}/J_k - h),
 * which has only positive terms for h <= 0 (forward recurrence would cancel).
 */
export function normalisedOtmCall(x: number, s: number): number {
  if (!(s > 0)) return 0;
  if (s === Infinity) return Math.exp(0.5 * x);
  const h = x / s;
  const t = 0.5 * s;
  if (t < SMALL_T) {
    const partialMoments = smallTPartialMoments(h);
    if (partialMoments[0] === 0) return 0;
    let term = 1; // t^k / k!
    let sum = 0;
    for (let k = 1; k <= SERIES_TERMS; k++) {
      term *= t / k;
      if (k % 2 === 1) sum += term * partialMoments[k];
    }
    return 2 * Math.exp(-0.5 * t * t) * sum;
  }
  if (x < -1400) return 0; // b <= exp(x/2) underflows
  const value = Math.exp(0.5 * x) * normalCdf(h + t) - Math.exp(-0.5 * x) * normalCdf(h - t);
  return value > 0 ? value : 0;
}
const MOMENTS = new Float64Array(SERIES_TERMS + 1);

/**
 * J_0..J_SERIES_TERMS at h <= 0 into a reused buffer. Forward recurrence
 * J_{k+1} = h J_k + k J_{k-1} from J_0 = N(h), J_1 = phi(h) + h N(h) loses about h^2 ulps
 * (J_1 cancels), measured < 4e-15 relative in the price for h >= -2.5. Below that, backward
 * recurrence of the ratios J_k / J_{k-1} = k / (J_{k+1}/J_k - h) has only positive terms and
 * converges (to 1e-16 from index 100 for h <= -2; at h near 0 it would not converge at all).
 */
function smallTPartialMoments(h: number): Float64Array {
  const j = MOMENTS;
  j[0] = normalCdf(h);
  if (h >= -2.5) {
    j[1] = normalPdf(h) + h * j[0];
    for (let k = 1; k < SERIES_TERMS; k++) j[k + 1] = h * j[k] + k * j[k - 1];
    return j;
  }
  let ratio = 0.5 * (h + Math.sqrt(h * h + 4 * RECURRENCE_START)); // r^2 - h r - N = 0
  for (let k = RECURRENCE_START - 1; k > SERIES_TERMS; k--) ratio = k / (ratio - h);
  for (let k = SERIES_TERMS; k >= 1; k--) {
    ratio = k / (ratio - h);
    j[k] = ratio; // J_k / J_{k-1}, turned into J_k below
  }
  for (let k = 1; k <= SERIES_TERMS; k++) j[k] *= j[k - 1];
  return j;
}

/**
 * Normalised Black price b(x, s, theta) = theta [exp(x/2) N(theta d1) - exp(-x/2) N(theta d2)].
 * @param x ln(F/K)
 * @param s total volatility sigma sqrt(T)
 * @param isCall call (theta = +1) or put (theta = -1)
 */
export function normalisedBlack(x: number, s: number, isCall: boolean): number {
  const itm = isCall ? x > 0 : x < 0;
  const otm = normalisedOtmCall(-Math.abs(x), s);
  return itm ? 2 * Math.sinh(0.5 * Math.abs(x)) + otm : otm;
}

/**
 * Price of a European option under generalized Black-Scholes-Merton.
 * @param inputs spot, strike > 0; timeToExpiry, volatility >= 0
 * @returns the present value
 */
export function blackScholesPrice(inputs: BlackScholesInputs): number {
  const { spot, strike, timeToExpiry: T, riskFreeRate: r, dividendYield: q, volatility } = inputs;
  const x = logMoneyness(spot, strike) + (r - q) * T;
  const scale = Math.sqrt(spot * strike) * Math.exp(-0.5 * (r + q) * T);
  return scale * normalisedBlack(x, volatility * Math.sqrt(T), inputs.optionType === 'call');
}

/**
 * Price and Greeks (QuantLib AnalyticEuropeanEngine conventions) of a European option.
 * With zero total volatility (sigma sqrt(T) = 0) the limits are returned: the discounted
 * intrinsic value on the forward, a step delta (half at the money), zero gamma.
 * @param inputs spot, strike > 0; timeToExpiry, volatility >= 0
 * @param into optional object to fill and return instead of a new one
 * @returns price, delta, gamma, theta (per year), vega and rho (per 1.00)
 */
export function blackScholes(inputs: BlackScholesInputs, into?: BlackScholesValuationBuffer): BlackScholesValuation {
  const { spot: S, strike: K, timeToExpiry: T, riskFreeRate: r, dividendYield: q, volatility: vol } = inputs;
  const sign = inputs.optionType === 'call' ? 1 : -1;
  const sqrtT = Math.sqrt(T);
  const s = vol * sqrtT;
  const x = logMoneyness(S, K) + (r - q) * T;
  const price = Math.sqrt(S * K) * Math.exp(-0.5 * (r + q) * T) * normalisedBlack(x, s, sign === 1);
  const dq = Math.exp(-q * T);
  const dr = Math.exp(-r * T);
  let nd1: number; // phi(d1)
  let cd1: number; // N(sign d1)
  let cd2: number; // N(sign d2)
  if (s > 0) {
    const d1 = x / s + 0.5 * s;
    const d2 = d1 - s;
    nd1 = normalPdf(d1);
    cd1 = normalCdf(sign * d1);
    cd2 = normalCdf(sign * d2);
  } else {
    // d1, d2 -> +-infinity with the sign of x; at the money both tend to 0.
    cd1 = cd2 = sign * x > 0 ? 1 : x === 0 ? 0.5 : 0;
    nd1 = x === 0 ? normalPdf(0) : 0;
  }
  const sdq = S * dq;
  const kdr = K * dr;
  const vega = sdq * nd1 * sqrtT;
  const gamma = s > 0 ? (dq * nd1) / (S * s) : 0;
  const decay = nd1 === 0 ? 0 : (-sdq * nd1 * vol) / (2 * sqrtT);
  const out = into ?? { price: 0, delta: 0, gamma: 0, theta: 0, vega: 0, rho: 0 };
  out.price = price;
  out.delta = sign * dq * cd1;
  out.gamma = gamma;
  out.theta = decay - sign * r * kdr * cd2 + sign * q * sdq * cd1;
  out.vega = vega;
  out.rho = sign * K * T * dr * cd2;
  return out;
}
