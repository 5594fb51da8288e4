/**
 * Fewer returns than this (about three months of trading days) make a volatility, drift or
 * covariance estimate too noisy to lean on: the standard error of a sample volatility is
 * about sigma / sqrt(2n), 9% of it at n = 60. The job still runs; the result says so.
 */
export const MIN_CALIBRATION_OBSERVATIONS = 60;

/**
 * A sentence for `result.warnings` when a calibration rests on few observations, else undefined.
 * @param observations the number of returns the estimate used
 * @param what what was estimated from them ("AAPL's historical volatility")
 * @param window the price window, to say what to widen
 */
export function fewObservationsWarning(observations: number, what: string, window: { start: string; end: string }): string | undefined {
  if (observations >= MIN_CALIBRATION_OBSERVATIONS) return undefined;
  return (
    `${what} rests on ${observations} daily return${observations === 1 ? '' : 's'} (${window.start} to ${window.end}), ` +
    `fewer than ${MIN_CALIBRATION_OBSERVATIONS}: the estimate is noisy; widen start/end for a steadier one.`
  );
}

/** `{ warnings }` for a result when there are any, else nothing (the key is absent, not empty). */
export function withWarnings(warnings: readonly string[]): { warnings?: string[] } {
  return warnings.length > 0 ? { warnings: [...warnings] } : {};
}
