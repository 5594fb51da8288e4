import * as z from 'zod';

/** The contract's default: 252 trading days a year. */
export const DEFAULT_PERIODS_PER_YEAR = 252;

/**
 * `params.periods_per_year`, the annualization factor of the daily price data, validated the
 * same way by every model that annualizes history (Markowitz, Monte Carlo, Black-Scholes):
 * 252 for trading days (equities, FX, mixed portfolios aligned on them), 365 for a coin alone.
 */
export const periodsPerYearParam = z.number().positive().max(100_000).default(DEFAULT_PERIODS_PER_YEAR);
