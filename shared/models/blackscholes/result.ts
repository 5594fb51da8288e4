import type { OptionType } from './blackscholes.js';

/** Where an option's volatility came from. */
export type VolatilitySource = 'params' | 'historical' | 'implied';

/** One entry of `result.options`: the resolved inputs echoed, then the valuation. */
export interface BlackScholesOptionResult {
  option_type: OptionType;
  symbol: string | null;
  spot: number;
  strike: number;
  time_to_expiry: number;
  risk_free_rate: number;
  dividend_yield: number;
  /** The volatility priced with; null when it was to be implied and the quote has none. */
  volatility: number | null;
  volatility_source: VolatilitySource;
  market_price?: number;
  price: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  rho: number | null;
  implied_volatility?: number | null;
  implied_volatility_error?: string;
}

export interface BlackScholesResult {
  options: BlackScholesOptionResult[];
  /** Sentences about estimates resting on few observations; absent when there are none. */
  warnings?: string[];
}
