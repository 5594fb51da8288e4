/**
 * Implied volatility after Jaeckel, "Let's Be Rational" (Wilmott 2017): work on the
 * normalised Black function b(x, s) of an out-of-the-money call (in-the-money options and
 * puts are reduced to it by subtracting the normalised intrinsic value and by put-call
 * symmetry), split the price axis into three regions around the inflection point
 * s_c = sqrt(2|x|), and in each run third-order Householder steps on the objective that is
 * nearly linear there:
 *   low prices     f = 1/ln b(s) - 1/ln beta         (b behaves like exp(-x^2 / 2s^2))
 *   middle         f = b(s) - beta
 *   high prices    f = ln((b_max - beta) / (b_max - b(s)))   (b_max = exp(x/2))
 * Initial guesses here are simpler than LBR's rational cubics (asymptotic expansions in the
 * outer regions, the tangent at s_c in the middle), so a solve takes a few iterations more
 * than LBR's two; the steps are safeguarded by a bracket so that convergence is guaranteed.
 */
import { logMoneyness, normalisedOtmCall, type OptionType } from './blackscholes.js';
import { inverseNormalCdf, normalCdf } from '../../numerics/normal.js';

export interface ImpliedVolatilityInputs {
  readonly optionType: OptionType;
  /** The option's market price (present value). */
  readonly price: number;
  readonly spot: number;
  readonly strike: number;
  readonly timeToExpiry: number;
  readonly riskFreeRate: number;
  readonly dividendYield: number;
}

export type ImpliedVolatilityResult =
  | { readonly ok: true; readonly volatility: number; readonly iterations: number }
  | { readonly ok: false; readonly reason: string };

const INV_SQRT_2PI = 0.398942280401432677939946059934;
const SQRT_2PI = 2.50662827463100050241576528481;
const MAX_ITERATIONS = 64;
/** Stop when a step moves s by less than this (relative): a few ulps, far below 1e-10. */
const STEP_TOLERANCE = 4 * Number.EPSILON;

/**
 * Implied volatility of a European option under generalized Black-Scholes-Merton.
 * @param inputs the quote and the option's terms
 * @returns the volatility and the number of Householder iterations, or, for a quote outside
 *   the no-arbitrage bounds, `ok: false` with a sentence naming the bound and the numbers
 */
export function impliedVolatility(inputs: ImpliedVolatilityInputs): ImpliedVolatilityResult {
  const { optionType, price, spot: S, strike: K, timeToExpiry: T, riskFreeRate: r, dividendYield: q } = inputs;
  const isCall = optionType === 'call';
  const assetValue = S * Math.exp(-q * T);
  const strikeValue = K * Math.exp(-r * T);
  const lower = Math.max(isCall ? assetValue - strikeValue : strikeValue - assetValue, 0);
  const upper = isCall ? assetValue : strikeValue;
  // A quote within a few ulps of intrinsic (e.g. a deep in-the-money value rounded once more
  // than the bound) is at the bound, not below it: volatility 0 below, not a failure.
  const roundingSlack = 4 * Number.EPSILON * Math.max(assetValue, strikeValue);
  if (!Number.isFinite(price) || price < lower - roundingSlack) {
    return {
      ok: false,
      reason:
        `The ${optionType} price ${price} is below its lower no-arbitrage bound ${lower} ` +
        `(the intrinsic value on the forward, max(${isCall ? 'S e^-qT - K e^-rT' : 'K e^-rT - S e^-qT'}, 0)), so no volatility produces it.`,
    };
  }
  if (price >= upper) return aboveUpper(optionType, price, upper);
  const x = logMoneyness(S, K) + (r - q) * T;
  const beta = price / (Math.sqrt(S * K) * Math.exp(-0.5 * (r + q) * T));
  const inTheMoney = isCall ? x > 0 : x < 0;
  const betaOtm = inTheMoney ? beta - 2 * Math.sinh(0.5 * Math.abs(x)) : beta;
  const xOtm = -Math.abs(x);
  // Rounding can put a quote that passed the dollar bounds a hair outside the normalised ones:
  // at the lower bound that is volatility 0, at the upper one no finite volatility.
  if (betaOtm <= 0) return { ok: true, volatility: 0, iterations: 0 };
  if (betaOtm >= Math.exp(0.5 * xOtm)) return aboveUpper(optionType, price, upper);
  const solved = solveNormalised(xOtm, betaOtm);
  return { ok: true, volatility: solved.s / Math.sqrt(T), iterations: solved.iterations };
}

// A function of its own, not a closure in impliedVolatility: the bundle names every function
// it creates (esbuild keepNames), which would cost a defineProperty on each of 100,000 solves.
function aboveUpper(optionType: OptionType, price: number, upper: number): ImpliedVolatilityResult {
  const isCall = optionType === 'call';
  return {
    ok: false,
    reason:
      `The ${optionType} price ${price} is at or above its upper no-arbitrage bound ${upper} ` +
      `(${isCall ? 'S e^-qT' : 'K e^-rT'}), which only an infinite volatility reaches.`,
  };
}

/** d b / d s = exp(-(x^2/s^2 + s^2/4) / 2) / sqrt(2 pi): the normalised vega. */
function normalisedVega(x: number, s: number): number {
  const h = x / s;
  const t = 0.5 * s;
  return INV_SQRT_2PI * Math.exp(-0.5 * (h * h + t * t));
}

/** b_max - b(x, s) = exp(x/2) N(-h-t) + exp(-x/2) N(h-t): a sum, accurate where b is near b_max. */
function normalisedOtmCallComplement(x: number, s: number): number {
  const h = x / s;
  const t = 0.5 * s;
  return Math.exp(0.5 * x) * normalCdf(-h - t) + Math.exp(-0.5 * x) * normalCdf(h - t);
}

const enum Region {
  Low,
  Middle,
  High,
}

/** Solves b(x, s) = beta for s, x <= 0, 0 < beta < exp(x/2). */
export function solveNormalised(x: number, beta: number): { s: number; iterations: number } {
  const bMax = Math.exp(0.5 * x);
  const sc = Math.sqrt(-2 * x);
  const bc = normalisedOtmCall(x, sc);
  const vc = normalisedVega(x, sc);
  const sl = sc - bc / vc;
  const su = sc + (bMax - bc) / vc;
  const bl = sl > 0 ? normalisedOtmCall(x, sl) : 0;
  const bu = normalisedOtmCall(x, su);

  let region: Region;
  let s: number;
  if (beta < bl) {
    region = Region.Low;
    s = lowPriceGuess(x, beta, sl);
  } else if (beta > bu) {
    region = Region.High;
    // For large s, b_max - b ~ 2 cosh(x/2) N(-s/2).
    const tail = (bMax - beta) / (2 * Math.cosh(0.5 * x));
    s = Math.max(-2 * inverseNormalCdf(tail), su);
  } else {
    region = Region.Middle;
    s = Math.min(Math.max(sc + (beta - bc) / vc, sl > 0 ? sl : 0.5 * sc), su);
  }
  if (!(s > 0) || !Number.isFinite(s)) s = sc > 0 ? sc : 1;

  const lnBeta = Math.log(beta);
  let lo = 0;
  let hi = Infinity;
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration++) {
    const b = normalisedOtmCall(x, s);
    const b1 = normalisedVega(x, s);
    if (b < beta) lo = s;
    else if (b > beta) hi = s;
    // b''/b' and b'''/b' in closed form.
    const xx = (x * x) / (s * s);
    const a2 = xx / s - 0.25 * s;
    const a3 = a2 * a2 - (3 * xx) / (s * s) - 0.25;
    let f: number;
    let f1: number;
    let h2: number;
    let h3: number;
    if (region === Region.Low) {
      const L = Math.log(b);
      const L1 = b1 / b;
      const L2 = a2 * L1 - L1 * L1;
      const L3 = a3 * L1 - 3 * L1 * a2 * L1 + 2 * L1 * L1 * L1;
      f = 1 / L - 1 / lnBeta;
      f1 = -L1 / (L * L);
      const f2 = -L2 / (L * L) + (2 * L1 * L1) / (L * L * L);
      const f3 = -L3 / (L * L) + (6 * L1 * L2) / (L * L * L) - (6 * L1 * L1 * L1) / (L * L * L * L);
      h2 = f2 / f1;
      h3 = f3 / f1;
    } else if (region === Region.High) {
      const g = normalisedOtmCallComplement(x, s);
      const ratio = b1 / g;
      f = Math.log((bMax - beta) / g);
      f1 = ratio;
      h2 = a2 + ratio;
      h3 = a3 + 3 * a2 * ratio + 2 * ratio * ratio;
    } else {
      f = b - beta;
      f1 = b1;
      h2 = a2;
      h3 = a3;
    }
    if (f === 0) return { s, iterations: iteration };
    const nu = -f / f1;
    let next = s + (nu * (1 + 0.5 * h2 * nu)) / (1 + nu * (h2 + (h3 * nu) / 6));
    if (Math.abs(next - s) <= STEP_TOLERANCE * s) return { s: next, iterations: iteration };
    if (!(next > lo && next < hi)) {
      // The step left the bracket (a poor start far from the root): fall back to Newton,
      // then to bisection, which always keeps the root inside.
      const newton = s + nu;
      next = newton > lo && newton < hi ? newton : hi === Infinity ? 2 * s : 0.5 * (lo + hi);
    }
    s = next;
  }
  return { s, iterations: MAX_ITERATIONS };
}

/**
 * For h = x/s -> -infinity, b ~ s^3 / (x^2 sqrt(2 pi)) exp(-x^2/(2 s^2) - s^2/8) (the Mills
 * ratio's leading terms); a few Newton steps on its logarithm give the starting point.
 */
function lowPriceGuess(x: number, beta: number, sl: number): number {
  const lnBeta = Math.log(beta);
  const c = Math.log(x * x * SQRT_2PI);
  let s = Math.min(-x / Math.sqrt(-2 * lnBeta), sl);
  for (let i = 0; i < 6; i++) {
    const g = 3 * Math.log(s) - c - (x * x) / (2 * s * s) - (s * s) / 8 - lnBeta;
    const g1 = 3 / s + (x * x) / (s * s * s) - s / 4;
    const next = s - g / g1;
    s = next > 0 ? Math.min(next, sl) : 0.5 * s;
  }
  return s;
}
