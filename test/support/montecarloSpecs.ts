import type { MonteCarloSpec } from '../../shared/models/montecarlo/gbmModel.js';

/** Three correlated symbols with a short position: the several-symbol job the shard tests compare across shard counts. */
export const threeSymbols = (simulations: number, timeSteps: number, seed: number): MonteCarloSpec => ({
  assets: [
    { name: 'AAA', initialPrice: 100, drift: 0.07, volatility: 0.2 },
    { name: 'BBB', initialPrice: 50, drift: 0.1, volatility: 0.35 },
    { name: 'CCC', initialPrice: 20, drift: 0.03, volatility: 0.15 },
  ],
  correlation: [
    [1, 0.6, -0.2],
    [0.6, 1, 0.1],
    [-0.2, 0.1, 1],
  ],
  weights: [0.7, 0.5, -0.2],
  simulations,
  timeSteps,
  horizonYears: 0.5,
  seed,
  confidenceLevels: [0.9, 0.95, 0.99],
});
