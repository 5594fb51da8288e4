/**
 * Simple returns laid out by asset: `values[k * observations + t]` is asset k's return from
 * date t to date t+1. One asset's series is contiguous, so covariance inner products stream
 * through memory.
 */
export interface AssetReturns {
  readonly assets: number;
  readonly observations: number;
  readonly values: Float64Array;
}

/** Why returns could not be formed: too few dates, or a price that is not a positive number. */
export type ReturnsProblem =
  | { readonly kind: 'too_few_dates'; readonly dates: number }
  | { readonly kind: 'bad_price'; readonly asset: number; readonly index: number; readonly price: number };

/**
 * Simple returns p[t+1]/p[t] - 1 of prices already aligned on common dates.
 * @param prices one series per asset, all the same length (dates in common, oldest first).
 * @returns the returns, or the problem that prevents them.
 */
export function simpleReturns(prices: readonly Float64Array[]): AssetReturns | ReturnsProblem {
  const dates = prices.length === 0 ? 0 : prices[0].length;
  if (dates < 3) return { kind: 'too_few_dates', dates };
  const observations = dates - 1;
  const values = new Float64Array(prices.length * observations);
  for (let k = 0; k < prices.length; k++) {
    const p = prices[k];
    for (let t = 0; t < dates; t++) {
      if (!(p[t] > 0) || !Number.isFinite(p[t])) return { kind: 'bad_price', asset: k, index: t, price: p[t] };
    }
    const base = k * observations;
    for (let t = 0; t < observations; t++) values[base + t] = p[t + 1] / p[t] - 1;
  }
  return { assets: prices.length, observations, values };
}
