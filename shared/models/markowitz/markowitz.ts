import { JobError } from '../../job/errors.js';
import { cholesky } from '../../numerics/linalg/cholesky.js';
import { closedFormEfficientSet } from './closedForm.js';
import { ledoitWolfCovariance, sampleCovariance } from './covariance.js';
import { longOnlyEfficientSet } from './longOnly.js';
import type { EfficientSet } from './portfolio.js';
import { returnMoments, returnMomentsInTwo, type ReturnMoments, type TileRowsHelper } from './returnMoments.js';
import { simpleReturns, type AssetReturns } from './returns.js';

export type CovarianceMethod = 'ledoit_wolf' | 'sample';

export interface MarkowitzOptions {
  readonly covariance: CovarianceMethod;
  readonly longOnly: boolean;
  /** Annual, like the annualized expected returns. */
  readonly riskFreeRate: number;
  readonly frontierPoints: number;
  readonly periodsPerYear: number;
}

/** Estimates (annualized) and the efficient set they imply. */
export interface MarkowitzAnalysis extends EfficientSet {
  /** Mean simple return times periodsPerYear, in asset order. */
  readonly expectedReturns: Float64Array;
  /** p*p row-major, per-period estimate times periodsPerYear. */
  readonly covariance: Float64Array;
  readonly shrinkage: number;
  /** Number of returns (common dates - 1). */
  readonly observations: number;
}

/**
 * Mean-variance analysis of prices aligned on common dates: simple returns, expected returns
 * and covariance (estimated per period, then annualized by periodsPerYear; Ledoit-Wolf's
 * intensity is scale-free so annualizing before or after gives the same estimate), then the
 * GMV, max-Sharpe and frontier portfolios, with or without short sales.
 * @param prices one aligned series per asset (oldest first). @param symbols names, for messages.
 * @throws JobError `insufficient_data` for fewer than 2 returns, a non-positive price, or a
 *   singular covariance.
 */
export function markowitz(prices: readonly Float64Array[], symbols: readonly string[], options: MarkowitzOptions): MarkowitzAnalysis {
  const returns = checkedReturns(prices, symbols);
  return analyse(returns, returnMoments(returns), symbols, options);
}

/**
 * The same analysis, bit for bit, with half the covariance product on another thread
 * (returnMomentsInTwo), or all of it here when `helper` is null.
 */
export async function markowitzInTwo(
  prices: readonly Float64Array[],
  symbols: readonly string[],
  options: MarkowitzOptions,
  helper: TileRowsHelper | null,
  /** Given the (annualized) covariance as soon as it is known, before the portfolios are solved for; it must not change it. */
  onCovariance?: (covariance: Float64Array) => void,
): Promise<MarkowitzAnalysis> {
  const returns = checkedReturns(prices, symbols);
  return analyse(returns, await returnMomentsInTwo(returns, helper), symbols, options, onCovariance);
}

/** Simple returns, or the job's error when they cannot be formed. */
function checkedReturns(prices: readonly Float64Array[], symbols: readonly string[]): AssetReturns {
  const returns = simpleReturns(prices);
  if ('kind' in returns) {
    if (returns.kind === 'too_few_dates') {
      throw new JobError(
        'insufficient_data',
        `${symbols.join(', ')} have ${returns.dates} date(s) in common in the window, so fewer than 2 returns; widen start/end or drop a symbol with gaps.`,
      );
    }
    throw new JobError(
      'insufficient_data',
      `${symbols[returns.asset]} has a non-positive or missing price (${returns.price}) on its common date ${returns.index + 1}, so its returns are undefined.`,
    );
  }
  return returns;
}

function analyse(
  returns: AssetReturns,
  moments: ReturnMoments,
  symbols: readonly string[],
  options: MarkowitzOptions,
  onCovariance?: (covariance: Float64Array) => void,
): MarkowitzAnalysis {
  const estimate = options.covariance === 'sample' ? sampleCovariance(moments) : ledoitWolfCovariance(moments);
  const p = returns.assets;
  const covariance = estimate.covariance.map((x) => x * options.periodsPerYear);
  onCovariance?.(covariance);
  const expectedReturns = moments.means.map((x) => x * options.periodsPerYear);

  // Every path needs a positive definite covariance: the closed form solves with this
  // factor, and the active-set QP's solution is unique only then.
  const factor = cholesky(covariance, p);
  if (!factor.ok) {
    const n = returns.observations;
    const why =
      options.covariance === 'sample' && n <= p
        ? `the sample covariance of ${p} symbols from ${n} returns is singular (it needs more returns than symbols)`
        : `the ${options.covariance} covariance is singular: ${symbols[factor.column]}'s returns are constant or a combination of the other symbols'`;
    throw new JobError('insufficient_data', `${why}; use covariance "ledoit_wolf", a longer window, or fewer symbols.`);
  }
  const set = options.longOnly
    ? longOnlyEfficientSet(covariance, factor.lower, expectedReturns, options.riskFreeRate, options.frontierPoints)
    : closedFormEfficientSet(covariance, factor.lower, expectedReturns, options.riskFreeRate, options.frontierPoints);
  return { ...set, expectedReturns, covariance, shrinkage: estimate.shrinkage, observations: returns.observations };
}
