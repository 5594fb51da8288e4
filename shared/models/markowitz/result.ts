/** A portfolio as the result document carries it. */
export interface PortfolioResult {
  readonly weights: Record<string, number>;
  readonly expected_return: number;
  readonly volatility: number;
  readonly sharpe: number;
}

/** `result` of a completed Markowitz job. */
export interface MarkowitzResult {
  /** The order of `covariance` rows and columns (the job's `symbols`). */
  readonly symbols: readonly string[];
  readonly gmv: PortfolioResult;
  /** Null when no tangency portfolio exists; `max_sharpe_error` then says why. */
  readonly max_sharpe: PortfolioResult | null;
  readonly max_sharpe_error?: string;
  readonly frontier: ReadonlyArray<{ readonly expected_return: number; readonly volatility: number }>;
  readonly shrinkage: number;
  readonly expected_returns: Record<string, number>;
  readonly covariance: readonly (readonly number[])[];
  readonly risk_free_rate: number;
  /** Annualized volatility of each symbol alone (sqrt of the covariance diagonal). */
  readonly volatilities: Record<string, number>;
}
