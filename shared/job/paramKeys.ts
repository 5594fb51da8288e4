/**
 * Every function's `params` keys, as a static list: a function bundles only its own model,
 * yet a job sent to the wrong function should be told which function its keys belong to.
 * test/job/envelope.test.ts holds each list equal to its model's params schema.
 */
export const PARAM_KEYS: Readonly<Record<string, readonly string[]>> = {
  blackscholes: ['option_type', 'spot', 'strike', 'time_to_expiry', 'risk_free_rate', 'dividend_yield', 'volatility', 'market_price', 'symbol', 'options', 'periods_per_year'],
  montecarlo: ['simulations', 'time_steps', 'horizon_years', 'seed', 'initial_price', 'drift', 'volatility', 'weights', 'confidence_levels', 'periods_per_year', 'shards'],
  markowitz: ['covariance', 'long_only', 'risk_free_rate', 'frontier_points', 'periods_per_year'],
  ingest: ['source', 'asset_class', 'corporate_actions', 'exchange'],
};

/**
 * The other function whose params include every one of `keys`, if exactly one does
 * (`covariance` and `long_only` sent to montecarlo are markowitz's).
 */
export function functionOwningKeys(keys: readonly string[], besides: string): string | undefined {
  const owners = Object.entries(PARAM_KEYS).filter(([fn, known]) => fn !== besides && keys.every((k) => known.includes(k)));
  return owners.length === 1 ? owners[0][0] : undefined;
}
