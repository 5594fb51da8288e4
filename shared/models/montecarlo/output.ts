import { withWarnings } from '../../job/calibrationWarning.js';
import type { Metric, ModelOutput } from '../../job/model.js';
import { montecarloChartSvg } from './chart.js';
import type { MonteCarloOutcome, MonteCarloSpec } from './gbmModel.js';

/**
 * What a Monte Carlo job's output says beside the simulated numbers, all fixed before the
 * simulation: the `inputs` known then (everything but `band_time_points`, `threads` and
 * `shards`), the chart's title and the calibration's warnings. A sharded job handed off to
 * Pub/Sub keeps it in its manifest, so the task that merges the shards builds the same
 * output the receiving instance would have.
 */
export interface OutputFrame {
  readonly inputs: Record<string, unknown>;
  readonly title: string;
  readonly warnings: readonly string[];
}

/** The job's output (inputs, result, metrics, chart) from its simulated outcome. */
export function monteCarloOutput(spec: MonteCarloSpec, frame: OutputFrame, { result, threads }: MonteCarloOutcome, shards: number): ModelOutput {
  const inputs: Record<string, unknown> = { ...frame.inputs, band_time_points: result.bands.map((b) => b.t), threads, shards };

  const metrics: Metric[] = [];
  for (const [symbol, s] of Object.entries(result.symbols)) {
    metrics.push(
      { metric: 'expected_terminal_price', value: s.expected_terminal_price, symbol },
      { metric: 'probability_of_loss', value: s.probability_of_loss, symbol },
      { metric: 'volatility', value: s.volatility, symbol },
      { metric: 'drift', value: s.drift, symbol },
    );
  }
  metrics.push(
    { metric: 'expected_return', value: result.portfolio.expected_return },
    { metric: 'volatility_of_return', value: result.portfolio.volatility_of_return },
  );
  for (const c of Object.keys(result.portfolio.var)) {
    metrics.push({ metric: `var.${c}`, value: result.portfolio.var[c] }, { metric: `cvar.${c}`, value: result.portfolio.cvar[c] });
  }

  return {
    inputs,
    result: { ...result, ...withWarnings([...frame.warnings]) },
    metrics,
    chart: montecarloChartSvg(result, { title: frame.title, simulations: spec.simulations, timeSteps: spec.timeSteps, seed: spec.seed }),
  };
}
