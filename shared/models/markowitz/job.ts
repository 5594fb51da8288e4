/**
 * @module Markowitz (`markowitz`): global minimum-variance and max-Sharpe portfolios and the
 * efficient frontier.
 *
 * The folder: `returns.ts`/`returnMoments.ts` (simple returns, means, sample covariance),
 * `covariance.ts` (sample or Ledoit-Wolf 2004, as scikit-learn's `LedoitWolf()`),
 * `closedForm.ts` (unconstrained portfolios), `longOnly.ts`/`activeSetQp.ts` (long-only by an
 * active-set QP), `portfolio.ts`, `markowitz.ts` (the model as a whole), `result.ts` (the
 * result's shape), `chart.ts` (frontier, assets, capital market line); this file is the job:
 * params, alignment of prices, result document. Reference values: `test/fixtures/markowitz/`
 * (numpy, scikit-learn).
 */
import * as z from 'zod';
import { markowitzChart } from './chart.js';
import { fewObservationsWarning, withWarnings } from '../../job/calibrationWarning.js';
import { JobError } from '../../job/errors.js';
import { periodsPerYearParam } from '../../job/periodsPerYear.js';
import type { Metric, ModelDefinition } from '../../job/model.js';
import { alignOnCommonDates, distinctDateCount } from '../../prices/history.js';
import { checkSymbolDays } from './limits.js';
import { matrixJsonOnHelperThread, tileRowsOnHelperThread } from '../../parallel/helperThread.js';
import { matrixRows } from './matrixJson.js';
import { markowitzInTwo } from './markowitz.js';
import type { Portfolio } from './portfolio.js';
import type { MarkowitzResult, PortfolioResult } from './result.js';

/** `params` of a Markowitz job (see the job contract). */
export const markowitzParams = z
  .object({
    covariance: z.enum(['ledoit_wolf', 'sample']).default('ledoit_wolf'),
    long_only: z.boolean().default(false),
    risk_free_rate: z
      .number()
      .gt(-1, 'risk_free_rate is an annual fraction (0.05 for 5%)')
      .lt(1, 'risk_free_rate is an annual fraction (0.05 for 5%)')
      .default(0),
    frontier_points: z.number().int().min(2).max(200).default(20),
    periods_per_year: periodsPerYearParam,
  })
  .strict();

export type MarkowitzParams = z.infer<typeof markowitzParams>;

/** Minimum-variance and max-Sharpe portfolios and the efficient frontier of `symbols`. */
export const markowitzModel: ModelDefinition<MarkowitzParams> = {
  name: 'markowitz',
  params: markowitzParams,
  symbolsOptional: false,
  async run(job, context) {
    const symbols = job.symbols;
    if (symbols.length < 2) {
      throw new JobError('invalid_job', 'symbols must list at least 2 symbols for a portfolio (one symbol is trivially weight 1).');
    }
    const seen = new Set<string>();
    for (const s of symbols) {
      if (seen.has(s)) throw new JobError('invalid_job', `symbols lists ${s} twice; list each symbol once.`);
      seen.add(s);
    }
    checkSymbolDays(symbols.length, job.start, job.end);
    const params = job.params;
    const histories = await context.history(symbols);
    const aligned = alignOnCommonDates(histories);
    if (aligned.dates.length < 3) {
      throw new JobError(
        'insufficient_data',
        `${symbols.join(', ')} have ${aligned.dates.length} date(s) in common between ${job.start} and ${job.end}, ` +
          `fewer than the 3 needed for 2 returns; widen start/end or drop the symbol with gaps.`,
      );
    }
    const options = {
      covariance: params.covariance,
      longOnly: params.long_only,
      riskFreeRate: params.risk_free_rate,
      frontierPoints: params.frontier_points,
      periodsPerYear: params.periods_per_year,
    };
    const p = symbols.length;
    // Half the covariance product on the helper thread where there is one (same numbers), and
    // a large covariance's JSON text there too, while this thread solves for the portfolios.
    let covarianceJson: Promise<Uint8Array[] | null> | undefined;
    const writeCovarianceJson = p >= COVARIANCE_JSON_ASSETS ? (c: Float64Array) => void (covarianceJson = matrixJsonOnHelperThread(c, p)) : undefined;
    const analysis = await markowitzInTwo(aligned.prices, symbols, options, tileRowsOnHelperThread(), writeCovarianceJson);
    const bySymbol = (values: ArrayLike<number>): Record<string, number> =>
      Object.fromEntries(symbols.map((s, i) => [s, values[i]]));
    const portfolioResult = (x: Portfolio): PortfolioResult => ({
      weights: bySymbol(x.weights),
      expected_return: x.expectedReturn,
      volatility: x.volatility,
      sharpe: x.sharpe,
    });
    const covariance = matrixRows(analysis.covariance, p);
    const result: MarkowitzResult = {
      symbols: [...symbols],
      gmv: portfolioResult(analysis.gmv),
      max_sharpe: analysis.maxSharpe ? portfolioResult(analysis.maxSharpe) : null,
      ...(analysis.maxSharpeProblem ? { max_sharpe_error: analysis.maxSharpeProblem } : {}),
      frontier: analysis.frontier.map((f) => ({ expected_return: f.expectedReturn, volatility: f.volatility })),
      shrinkage: analysis.shrinkage,
      expected_returns: bySymbol(analysis.expectedReturns),
      covariance,
      risk_free_rate: params.risk_free_rate,
      volatilities: bySymbol(symbols.map((_, i) => Math.sqrt(analysis.covariance[i * p + i]))),
    };

    const warnings: string[] = [];
    const window = { start: aligned.dates[0]!, end: aligned.dates[aligned.dates.length - 1]! };
    const warning = fewObservationsWarning(analysis.observations, `The estimate of expected returns and covariance for ${symbols.join(', ')}`, window);
    if (warning) (warnings.push(warning), context.log.warn(warning));

    const metrics: Metric[] = [];
    const portfolioMetrics = (prefix: string, x: Portfolio) => {
      metrics.push(
        { metric: `${prefix}_expected_return`, value: x.expectedReturn },
        { metric: `${prefix}_volatility`, value: x.volatility },
        { metric: `${prefix}_sharpe`, value: x.sharpe },
      );
    };
    portfolioMetrics('gmv', analysis.gmv);
    if (analysis.maxSharpe) portfolioMetrics('max_sharpe', analysis.maxSharpe);
    symbols.forEach((s, i) => metrics.push({ metric: 'gmv_weight', value: analysis.gmv.weights[i], symbol: s }));
    if (analysis.maxSharpe) {
      const w = analysis.maxSharpe.weights;
      symbols.forEach((s, i) => metrics.push({ metric: 'max_sharpe_weight', value: w[i], symbol: s }));
    }
    metrics.push({ metric: 'shrinkage', value: analysis.shrinkage });

    const resultDocument = { ...result, ...withWarnings(warnings) };
    const covarianceText = covarianceJson && (await covarianceJson);
    return {
      ...(covarianceText ? { resultText: resultTextWith(resultDocument, covarianceText) } : {}),
      inputs: {
        symbols: [...symbols],
        window: { start: aligned.dates[0], end: aligned.dates[aligned.dates.length - 1] },
        common_dates: aligned.dates.length,
        observations: analysis.observations,
        dropped_dates: distinctDateCount(histories) - aligned.dates.length,
        covariance: params.covariance,
        long_only: params.long_only,
        risk_free_rate: params.risk_free_rate,
        periods_per_year: params.periods_per_year,
        asset_classes: Object.fromEntries(histories.map((h) => [h.symbol, h.assetClass ?? null])),
        frontier_points: params.frontier_points,
      },
      result: resultDocument,
      metrics: metrics.filter((m) => Number.isFinite(m.value)),
      chart: markowitzChart(result, { covariance: params.covariance, longOnly: params.long_only }),
    };
  },
};

/**
 * From this many assets the covariance's JSON text is written on the helper thread (1,000
 * assets: a million numbers, ~0.15 s; 200: 40,000, less than handing them over).
 */
const COVARIANCE_JSON_ASSETS = 400;

/** A placeholder no other string of the result can be: `covariance` is the only key whose value it can take. */
const COVARIANCE_PLACEHOLDER = '\u0000covariance\u0000';

/** `JSON.stringify(result)` as UTF-8 chunks, the covariance's being `covarianceText` (its JSON text), byte for byte. */
export function resultTextWith(result: MarkowitzResult, covarianceText: readonly Uint8Array[]): Uint8Array[] {
  const text = JSON.stringify({ ...result, covariance: COVARIANCE_PLACEHOLDER });
  const slot = `"covariance":${JSON.stringify(COVARIANCE_PLACEHOLDER)}`;
  const at = text.indexOf(slot);
  return [Buffer.from(`${text.slice(0, at)}"covariance":`, 'utf8'), ...covarianceText, Buffer.from(text.slice(at + slot.length), 'utf8')];
}
