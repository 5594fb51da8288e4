import { describe, expect, it } from 'vitest';
import { runMonteCarlo, simulationPlanOf, type MonteCarloSpec } from '../../../shared/models/montecarlo/gbmModel.js';
import { threeSymbols } from '../../support/montecarloSpecs.js';
import { runSimulation } from '../../../shared/models/montecarlo/parallelRunner.js';
import { memoryShardStates, mergeShards, runShard, runShardPass, runShardsInProcess, splitJob, type InProcessShardOptions } from '../../../shared/models/montecarlo/shardedRun.js';
import {
  ShardMismatchError,
  parsePartial,
  parsePassPartial,
  parsePassSpec,
  sameSpec,
  serializePartial,
  serializePassPartial,
  serializePassSpec,
} from '../../../shared/models/montecarlo/shards.js';
import { selectionTargets } from '../../../shared/models/montecarlo/selectionPasses.js';
import { MAX_SIMULATIONS, checkShardedLimits, checkSimulationLimits } from '../../../shared/models/montecarlo/limits.js';
import { montecarloModel } from '../../../shared/models/montecarlo/job.js';
import { lerpQuantile, quantilePosition } from '../../../shared/numerics/quantile.js';
import { TERMINAL_PERCENTILES } from '../../../shared/models/montecarlo/statistics.js';
import type { ModelContext } from '../../../shared/job/model.js';
import type { Config } from '../../../shared/config.js';
import type { Logger } from '../../../shared/log.js';

// Several symbols over shards that keep no stores: the percentiles come from selection
// passes (counts over windows, then the values near each rank kept on a second simulation
// of every block). They must be one instance's numbers bit for bit (compared as JSON text).

async function withPasses(spec: MonteCarloSpec, shards: number, options: InProcessShardOptions = {}) {
  const passes: number[] = [];
  let peak = 0;
  const out = await runShardsInProcess(spec, splitJob(spec, shards, { selection: options.selection ?? true }), memoryShardStates(), {
    threads: 1,
    ...options,
    onPass: (p) => passes.push(p),
    onMergeMemory: (bytes) => (peak = Math.max(peak, bytes)),
  });
  return { ...out, passes, peak };
}

/** numpy's linear percentile by a full sort: the brute-force reference. */
function sortedPercentile(values: Float64Array | Float32Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const p = quantilePosition(sorted.length, q);
  return lerpQuantile(sorted[p.below], sorted[p.above], p.g);
}

describe('selection passes give one instance\'s numbers exactly', () => {
  it('three correlated symbols with a short position, for 1, 2, 7, 30 and 1000 shards, in two passes', async () => {
    const spec = threeSymbols(60_000, 8, 3);
    const single = JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result);
    for (const shards of [1, 2, 7, 30, 1000]) {
      const out = await withPasses(spec, shards);
      expect(out.shards).toBe(Math.min(shards, 15));
      expect(JSON.stringify(out.result), `${shards} shards`).toBe(single);
      expect(out.passes).toEqual([2]);
    }
    const partial = parsePartial((await runShard(spec, splitJob(spec, 2, { selection: true }), 0, { threads: 1 })).body);
    expect(partial.selection).not.toBeNull(); // counts, not stores
    expect(partial.terminalPrices).toHaveLength(0);
    expect(partial.portfolioTerminal).toHaveLength(0);
    expect(partial.bandValues).toHaveLength(0);
  });

  it('when windows hold too many values or the pilot misses: more count passes, the same numbers', async () => {
    const spec = threeSymbols(40_000, 6, 17);
    const single = JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result);
    // 16 bins, at most 40 values a window: several count passes before the keep pass.
    const narrow = await withPasses(spec, 3, { selection: { bins: 16, maxKept: 40 } });
    expect(narrow.passes.at(-1)).toBeGreaterThan(2);
    expect(JSON.stringify(narrow.result)).toBe(single);
    // A pilot of one block and windows of a tenth of a standard error: ranks fall outside them.
    const missed = await withPasses(spec, 4, { selection: { pilotBlocks: 1, pilotWidth: 0.1, maxKept: 2000 } });
    expect(missed.passes.at(-1)).toBeGreaterThan(2);
    expect(JSON.stringify(missed.result)).toBe(single);
  });

  it('find the order statistics a full sort finds (brute force over the stored values)', async () => {
    const spec = threeSymbols(30_000, 5, 29);
    const plan = simulationPlanOf(spec);
    const stored = await runSimulation(plan, spec.confidenceLevels, { threads: 1, brackets: false });
    const { result } = await withPasses(spec, 5);
    const n = plan.simulations;
    spec.assets.forEach((asset, a) => {
      const prices = stored.buffers.terminalPrices.subarray(a * n, (a + 1) * n);
      for (const [key, q] of Object.entries(TERMINAL_PERCENTILES)) {
        expect(result.symbols[asset.name].terminal_price.percentiles[key as keyof typeof TERMINAL_PERCENTILES], `${asset.name} ${key}`).toBe(sortedPercentile(prices, q));
      }
    });
    const returns = stored.buffers.portfolioTerminal.map((v) => v - 1);
    for (const c of spec.confidenceLevels) {
      const q = sortedPercentile(returns, 1 - c);
      expect(result.portfolio.var[String(c)]).toBe(-q);
      const tail = returns.filter((r) => r <= q).sort();
      const plain = tail.reduce((s, r) => s + r, 0) / tail.length; // the sum in one order: within rounding
      expect(Math.abs(result.portfolio.cvar[String(c)] / -plain - 1)).toBeLessThan(1e-14);
    }
    const interior = plan.bandSteps.length - 2;
    expect(interior).toBeGreaterThan(0);
    for (let j = 1; j <= interior; j++) {
      const values = stored.buffers.bandValues.subarray((j - 1) * n, j * n);
      expect(result.bands[j].p25).toBe(sortedPercentile(values, 0.25));
      expect(result.bands[j].p95).toBe(sortedPercentile(values, 0.95));
    }
  });
});

describe('selection passes at scale', () => {
  it('merge 3 symbols x 6,000,000 paths (beyond one instance\'s 5,000,000) holding under 12 MB, where stores take 192 MB', async () => {
    const spec = { ...threeSymbols(6_000_000, 1, 41), horizonYears: 1 / 252 };
    expect(spec.simulations).toBeGreaterThan(MAX_SIMULATIONS);
    const sharded = await withPasses(spec, 3, { selection: undefined, threads: 2 });
    expect(sharded.passes).toEqual([2]);
    const storesBytes = spec.simulations * (spec.assets.length + 1) * 8;
    expect(sharded.peak).toBeGreaterThan(0);
    expect(sharded.peak).toBeLessThan(12 * 2 ** 20);
    expect(sharded.peak).toBeLessThan(storesBytes / 16);
    // One instance, run here past its limits (they are job.ts's), stores every value: the same JSON.
    const single = await runMonteCarlo(spec, { threads: 2 });
    expect(JSON.stringify(sharded.result)).toBe(JSON.stringify(single.result));
  }, 240_000);
});

describe('selection pass states', () => {
  const spec = threeSymbols(30_000, 4, 5);

  it('are kept per pass, found again by a later merge (nothing simulated twice), and refused for another shard', async () => {
    const split = splitJob(spec, 3, { selection: true });
    const states = memoryShardStates();
    const first = await runShardsInProcess(spec, split, states, { threads: 1 });
    expect(states.passes.get(2)?.bodies.size).toBe(3);
    for (const body of states.passes.get(2)!.bodies.values()) expect(serializePassPartial(parsePassPartial(body))).toBe(body);
    for (const body of states.bodies.values()) expect(serializePartial(parsePartial(body))).toBe(body);
    const again = await mergeShards(spec, split, states, { threads: 1, onMergeMemory: () => undefined });
    expect(again.result).toEqual(first.result);
    const stale = memoryShardStates();
    for (const [shard, body] of states.bodies) await stale.save(shard, body);
    await stale.forPass!(2).save(0, states.passes.get(2)!.bodies.get(1)!);
    await expect(mergeShards(spec, split, stale, { threads: 1 })).rejects.toThrow(ShardMismatchError);
  });

  it('can be run elsewhere (a pass\'s windows travel as text; any instance runs runShardPass), the merge then only reads them', async () => {
    const split = splitJob(spec, 3, { selection: true });
    const states = memoryShardStates();
    for (let i = 0; i < 3; i++) await states.save(i, (await runShard(spec, split, i, { threads: 1 })).body);
    const travelled: string[] = [];
    const merged = await mergeShards(spec, split, states, {
      threads: 1,
      distributePass: async (pass, passStates) => {
        const text = serializePassSpec(pass);
        travelled.push(text);
        for (let i = 0; i < 3; i++) await passStates.save(i, (await runShardPass(spec, split, i, parsePassSpec(text), { threads: 1 })).body);
      },
    });
    expect(travelled).toHaveLength(1);
    expect(sameSpec(parsePassSpec(travelled[0]), parsePassSpec(travelled[0]))).toBe(true);
    expect(JSON.stringify(merged.result)).toBe(JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result));
    expect(() => parsePassSpec('{"format":"montecarlo-shard-pass/1","spec":"AAAA"}')).toThrow(ShardMismatchError);
  });

  it('are not mixed with a split that keeps stores (another fingerprint)', async () => {
    expect(splitJob(spec, 3, { selection: true }).fingerprint).not.toBe(splitJob(spec, 3).fingerprint);
    expect(splitJob(spec, 3).selection).toBeNull();
    expect(splitJob({ ...spec, simulations: 6_000_000 }, 3).selection).not.toBeNull(); // beyond one instance's stores: by default
  });

  it('name one rank pair per percentile (shared ones once, the tail flagged)', () => {
    const pairs = selectionTargets(simulationPlanOf(spec), spec.confidenceLevels);
    const portfolio = pairs.filter((p) => p.series === 3);
    // 0.9, 0.95, 0.99 tails; band p5 shares 0.95's ranks, p25..p95 their own.
    expect(portfolio.filter((p) => p.tail).map((p) => p.probability)).toEqual([1 - 0.9, 1 - 0.95, 1 - 0.99]);
    expect(portfolio).toHaveLength(3 + 4);
  });
});

describe('sharded jobs without stores', () => {
  const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
  const context = { history: async () => [], log, config: { MC_THREADS: 2 } as Config, warehouse: {} as ModelContext['warehouse'], secrets: {} as ModelContext['secrets'] } as ModelContext;

  it('run one asset without volatility beyond one instance\'s stores: every percentile the one price', async () => {
    const params = montecarloModel.params.parse({ initial_price: 100, drift: 0.05, volatility: 0, simulations: 6_000_000, time_steps: 1, horizon_years: 1, seed: 3, shards: 4 });
    const files = new Map<string, string>();
    const jobFiles = {
      names: async (prefix: string) => [...files.keys()].filter((k) => k.startsWith(prefix)),
      createOnly: async (name: string, body: string) => (files.has(name) ? false : (files.set(name, body), true)),
      read: async (name: string) => files.get(name) ?? null,
    };
    const out = await montecarloModel.run({ job_id: 'mc-vol0', symbols: [], start: '2024-01-01', end: '2024-12-31', params }, { ...context, jobFiles });
    // The shards' first pass in the job folder, the second pass's results beside it.
    expect([...files.keys()].map((k) => k.replace(/[0-9a-f]{32}/, 'F')).sort()).toEqual([0, 1, 2, 3].map((i) => `shards/F/${i}.json`).concat([0, 1, 2, 3].map((i) => `shards/F-pass2/${i}.json`)).sort());
    const price = 100 * Math.exp((0.05 - 0.5 * 0 ** 2) * (1 / 1));
    const result = out.result as { symbols: Record<string, { terminal_price: { percentiles: Record<string, number> } }>; portfolio: { var: Record<string, number>; cvar: Record<string, number> } };
    expect(Object.values(result.symbols.asset.terminal_price.percentiles)).toEqual(Array(7).fill(price));
    expect(result.portfolio.var['0.95']).toBe(-(price / 100 - 1));
    expect(Math.abs(result.portfolio.cvar['0.95'] / result.portfolio.var['0.95'] - 1)).toBeLessThan(1e-15);
  }, 120_000);

  it('reject more block moments than the merge keeps, naming the limit', () => {
    expect(() => checkShardedLimits(5e9, 10, 8, 1000, false)).toThrow(/params\.simulations x \(symbols \+ 1\) is 4\.50e\+10; the limit is 2\.4e\+10 for a sharded job/);
    expect(() => checkShardedLimits(4.9e9, 60, 3, 1000, false)).not.toThrow();
    expect(() => checkShardedLimits(5e9 + 1, 1, 2, 1000, false)).toThrow(/params\.simulations is 5000000001; the limit is 5e\+9 for a sharded job/);
    // One instance's limits point at shards when shards would do.
    expect(() => checkSimulationLimits(6e6, 252, 3)).toThrow(/params\.simulations is 6000000; the limit is 5000000 per instance: lower simulations or set params\.shards to at least 2 to split the job over instances\./);
    expect(() => checkSimulationLimits(4e6, 2520, 3)).toThrow(/limit is 1e\+10 per instance .* or set params\.shards to at least 4 to split/);
    expect(() => checkSimulationLimits(6e9, 1, 1)).toThrow(/per instance: lower simulations\.$/);
  });
});
