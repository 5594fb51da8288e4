import { describe, expect, it } from 'vitest';
import { runMonteCarlo, simulationPlanOf, type MonteCarloSpec } from '../../../shared/models/montecarlo/gbmModel.js';
import { runSimulation } from '../../../shared/models/montecarlo/parallelRunner.js';
import { memoryShardStates, runShardsInProcess, splitJob } from '../../../shared/models/montecarlo/shardedRun.js';

const threeSymbols = (simulations: number, timeSteps: number, seed: number): MonteCarloSpec => ({
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

describe('selection passes', () => {
  it('give one instance\'s numbers', async () => {
    const spec = threeSymbols(60_000, 8, 3);
    const single = JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result);
    for (const shards of [1, 3]) {
      const passes: number[] = [];
      const out = await runShardsInProcess(spec, splitJob(spec, shards, { selection: true }), memoryShardStates(), { threads: 1, onPass: (p) => passes.push(p) });
      expect(JSON.stringify(out.result)).toBe(single);
      expect(passes).toEqual([2]);
    }
  });
});
