import { describe, expect, it } from 'vitest';
import { runMonteCarlo, simulationPlanOf, type MonteCarloSpec } from '../../../shared/models/montecarlo/gbmModel.js';
import { threeSymbols } from '../../support/montecarloSpecs.js';
import { runShardSimulation, runSimulation } from '../../../shared/models/montecarlo/parallelRunner.js';
import { memoryShardStates, mergeShards, runShard, runShardsInProcess, splitJob } from '../../../shared/models/montecarlo/shardedRun.js';
import {
  ShardMerger,
  ShardMismatchError,
  parsePartial,
  planFingerprint,
  serializePartial,
  shardPartial,
  shardRanges,
} from '../../../shared/models/montecarlo/shards.js';
import { BLOCK_SIZE, MAX_SHARDS, MAX_SIMULATIONS, checkShardedLimits, minimumShards } from '../../../shared/models/montecarlo/limits.js';
import { montecarloModel } from '../../../shared/models/montecarlo/job.js';
import { JobError } from '../../../shared/job/errors.js';
import type { ModelContext } from '../../../shared/job/model.js';
import type { Config } from '../../../shared/config.js';
import type { Logger } from '../../../shared/log.js';
import { bandStepsFor, type SimulationPlan } from '../../../shared/models/montecarlo/simulation.js';

// Sharded jobs must give one instance's numbers bit for bit: every comparison below is
// exact (toEqual on the result, and the JSON text, which prints every double in full).

const oneAsset = (simulations: number, timeSteps: number, seed: number, confidenceLevels = [0.95, 0.99]): MonteCarloSpec => ({
  assets: [{ name: 'asset', initialPrice: 100, drift: 0.08, volatility: 0.25 }],
  correlation: [[1]],
  weights: [1],
  simulations,
  timeSteps,
  horizonYears: 1,
  seed,
  confidenceLevels,
});

async function sharded(spec: MonteCarloSpec, shards: number) {
  return runShardsInProcess(spec, splitJob(spec, shards), memoryShardStates(), { threads: 1 });
}

describe('shard ranges', () => {
  const plan = simulationPlanOf(oneAsset(10 * BLOCK_SIZE + 17, 5, 1));

  it('cover every block once, in order, as evenly as whole blocks allow', () => {
    for (const shards of [1, 2, 3, 7, 11]) {
      const ranges = shardRanges(plan, shards);
      expect(ranges).toHaveLength(shards);
      let next = 0;
      for (const r of ranges) {
        expect(r.first).toBe(next);
        next += r.blocks;
      }
      expect(next).toBe(11);
      const sizes = ranges.map((r) => r.blocks);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(ranges.reduce((s, r) => s + r.paths, 0)).toBe(plan.simulations);
    }
  });

  it('give at most one shard per block (the last one short)', () => {
    const ranges = shardRanges(plan, 1000);
    expect(ranges).toHaveLength(11);
    expect(ranges.at(-1)).toEqual({ first: 10, blocks: 1, paths: 17 });
  });
});

describe('sharded Monte Carlo gives one instance\'s numbers exactly', () => {
  it('one asset with brackets (120,000 paths, four confidence levels), for 1, 2, 7, 30 and 1000 shards', async () => {
    const spec = oneAsset(120_000, 20, 11, [0.9, 0.95, 0.99, 0.999]);
    const single = await runMonteCarlo(spec, { threads: 1 });
    const states = memoryShardStates();
    const partial = parsePartial((await runShard(spec, splitJob(spec, 7), 0, { threads: 1 })).body);
    expect(partial.terminal).not.toBeNull(); // the bracket path, not stores
    expect(partial.band).not.toBeNull();
    expect(partial.terminalPrices).toHaveLength(0);
    for (const shards of [1, 2, 7, 30, 1000]) {
      const out = await runShardsInProcess(spec, splitJob(spec, shards), shards === 7 ? states : memoryShardStates(), { threads: 1 });
      expect(out.shards).toBe(Math.min(shards, 30));
      expect(JSON.stringify(out.result)).toBe(JSON.stringify(single.result));
    }
    expect(states.bodies.size).toBe(7);
  });

  it('one asset with stores (10,000 paths, 3 shards)', async () => {
    const spec = oneAsset(10_000, 30, 4);
    const out = await sharded(spec, 3);
    expect(out.result).toEqual((await runMonteCarlo(spec, { threads: 1 })).result);
    expect(JSON.stringify(out.result)).toBe(JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result));
  });

  it('three correlated symbols with a short position, for 1, 4 and 5 (uneven) shards', async () => {
    const spec = threeSymbols(20_000, 40, 21);
    const single = JSON.stringify((await runMonteCarlo(spec, { threads: 1 })).result);
    for (const shards of [1, 4, 5]) expect(JSON.stringify((await sharded(spec, shards)).result)).toBe(single);
  });

  it('shards simulated on worker threads give the same partial states as inline ones', async () => {
    // 2 shards of 60,000 x 400 = 2.4e7 path-steps each: above the inline threshold.
    const spec = oneAsset(120_000, 400, 5);
    const split = splitJob(spec, 2);
    const inline = await runShard(spec, split, 1, { threads: 1 });
    const threaded = await runShard(spec, split, 1, { threads: 2 });
    expect(threaded.threads).toBe(2);
    expect(threaded.body).toBe(inline.body);
    const out = await runShardsInProcess(spec, splitJob(spec, 2), memoryShardStates(), { threads: 2 });
    expect(out.result).toEqual((await runMonteCarlo(spec, { threads: 2 })).result);
  });
});

describe('merging partial states', () => {
  const spec = oneAsset(120_000, 10, 8);
  const plan = simulationPlanOf(spec);
  const levels = spec.confidenceLevels;

  async function partials(p: SimulationPlan, shards: number) {
    const ranges = shardRanges(p, shards);
    const fingerprint = planFingerprint(p, levels, true);
    const bodies = [];
    for (let i = 0; i < ranges.length; i++) {
      const { buffers } = await runShardSimulation(p, levels, ranges[i], { threads: 1 });
      bodies.push(serializePartial(shardPartial(p, levels, i, ranges.length, buffers, fingerprint)));
    }
    return { ranges, fingerprint, bodies };
  }

  it('round-trip through their wire format bit for bit', async () => {
    const { bodies } = await partials(plan, 3);
    for (const body of bodies) expect(serializePartial(parsePartial(body))).toBe(body);
  });

  it('count each shard once, in any order, however often it is delivered', async () => {
    const { ranges, fingerprint, bodies } = await partials(plan, 4);
    const inOrder = new ShardMerger(plan, levels, ranges, fingerprint);
    for (const body of bodies) inOrder.add(parsePartial(body));
    const shuffled = new ShardMerger(plan, levels, ranges, fingerprint);
    for (const i of [2, 0, 2, 3, 1, 0, 3]) shuffled.add(parsePartial(bodies[i]));
    expect(shuffled.merged).toBe(4);
    expect(Array.from(shuffled.finish().statistics)).toEqual(Array.from(inOrder.finish().statistics));
  });

  it('refuse another job\'s state, a state that does not fit its range, and a missing shard', async () => {
    const { ranges, fingerprint, bodies } = await partials(plan, 2);
    const merger = new ShardMerger(plan, levels, ranges, fingerprint);
    const other = new ShardMerger(plan, levels, ranges, planFingerprint({ ...plan, seed: 9 }, levels, true));
    expect(() => other.add(parsePartial(bodies[0]))).toThrow(/Shard 0 of 2: its partial state belongs to another job/);
    const wrongShard = parsePartial(bodies[0]);
    expect(() => merger.add({ ...wrongShard, shard: 1 })).toThrow(ShardMismatchError);
    expect(() => parsePartial('{"format":"montecarlo-shard/1"}')).toThrow(/malformed: fingerprint/);
    expect(() => parsePartial('not json')).toThrow(/not JSON/);
    merger.add(parsePartial(bodies[1]));
    expect(() => merger.finish()).toThrow(/Shard 0 of 2 has not been merged/);
  });

  it('leave NaN where the brackets missed, as one instance\'s first pass does, and mergeShards then simulates again with stores', async () => {
    const missed: SimulationPlan = { ...plan, bracketLaw: { drift: 0.08, volatility: 0.05 } };
    const { ranges, bodies } = await partials(missed, 3);
    const merger = new ShardMerger(missed, levels, ranges, planFingerprint(missed, levels, true));
    for (const body of bodies) merger.add(parsePartial(body));
    const { statistics, bracketed } = merger.finish();
    expect(bracketed).toBe(true);
    expect(statistics.some(Number.isNaN)).toBe(true);
    // The well-placed law: no NaN, and the merge equals one instance.
    const states = memoryShardStates();
    const split = splitJob(spec, 3);
    for (let i = 0; i < 3; i++) await states.save(i, (await runShard(spec, split, i, { threads: 1 })).body);
    const merged = await mergeShards(spec, split, states, { threads: 1 });
    const single = await runSimulation(plan, levels, { threads: 1 });
    expect(merged.result.portfolio).toEqual({
      expected_return: single.statistics.portfolio.risk.expected_return,
      volatility_of_return: single.statistics.portfolio.risk.volatility_of_return,
      var: single.statistics.portfolio.risk.var,
      cvar: single.statistics.portfolio.risk.cvar,
    });
  });

  it('carry a fingerprint of the job and of its split: another seed or shard count is another split', () => {
    expect(splitJob(spec, 3).fingerprint).toBe(splitJob(spec, 3).fingerprint);
    expect(splitJob(spec, 3).fingerprint).not.toBe(splitJob(spec, 4).fingerprint);
    expect(splitJob(spec, 3).fingerprint).not.toBe(splitJob({ ...spec, seed: 9 }, 3).fingerprint);
  });

  it('fail naming the shard whose state is missing', async () => {
    const split = splitJob(spec, 3);
    const states = memoryShardStates();
    await states.save(0, (await runShard(spec, split, 0, { threads: 1 })).body);
    await expect(mergeShards(spec, split, states)).rejects.toThrow(/Shard 1 of 3 has no partial state/);
  });

  it('keep their band-point layout when bandStepsFor gives interior points', () => {
    expect(bandStepsFor(10, 120_000).length).toBeGreaterThan(2);
  });
});

describe('sharded montecarlo jobs', () => {
  const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };
  const context = (files?: Map<string, string>, progress?: { fraction: number; detail?: Record<string, unknown> }[]): ModelContext => ({
    history: async () => [],
    log,
    config: { MC_THREADS: 1 } as Config,
    warehouse: {} as ModelContext['warehouse'],
    secrets: {} as ModelContext['secrets'],
    ...(files && {
      jobFiles: {
        names: async (prefix) => [...files.keys()].filter((name) => name.startsWith(prefix)),
        createOnly: async (name, body) => (files.has(name) ? false : (files.set(name, body), true)),
        read: async (name) => files.get(name) ?? null,
      },
    }),
    ...(progress && { progress: async (fraction, detail) => void progress.push({ fraction, detail }) }),
  });
  const job = (params: Record<string, unknown>) => ({
    job_id: 'mc-shards', symbols: [], start: '2024-01-01', end: '2024-12-31',
    params: montecarloModel.params.parse({ initial_price: 100, drift: 0.05, volatility: 0.2, simulations: 50_000, time_steps: 12, seed: 7, ...params }),
  });

  it('store each shard\'s state in the job folder, report progress by shards, and give the one-shard result', async () => {
    const files = new Map<string, string>();
    const progress: { fraction: number; detail?: Record<string, unknown> }[] = [];
    const out = await montecarloModel.run(job({ shards: 3 }), context(files, progress));
    const single = await montecarloModel.run(job({}), context());
    expect(out.result).toEqual(single.result);
    expect(out.inputs.shards).toBe(3);
    expect(single.inputs.shards).toBe(1);
    expect([...files.keys()].map((k) => k.replace(/[0-9a-f]{32}/, 'F')).sort()).toEqual(['shards/F/0.json', 'shards/F/1.json', 'shards/F/2.json']);
    expect(progress.filter((p) => p.detail).map((p) => p.detail)).toEqual([1, 2, 3].map((d) => ({ shards_done: d, shards: 3 })));
    expect(progress.at(-1)?.fraction).toBe(1);
    // A later delivery (after a crash) finds the shards stored and simulates none of them.
    const again = await montecarloModel.run(job({ shards: 3 }), context(files));
    expect(again.result).toEqual(single.result);
  });

  it('need one shard within one instance\'s limits, else the fewest within a shard\'s', () => {
    expect(minimumShards(MAX_SIMULATIONS, 252, 1)).toBe(1);
    expect(minimumShards(4_000_000, 2520, 1)).toBe(2); // 1.0e10 x 1.008: two shards
    expect(minimumShards(1e9, 252, 1)).toBe(201); // 5e6 paths a shard, in whole blocks of 4096
    // The fewest: the default passes the sharded limits, one shard fewer does not.
    for (const [simulations, steps] of [[3.9e9, 256], [2.5e8, 4000], [1e8, 252], [4_000_001, 2500]]) {
      const shards = minimumShards(simulations, steps, 1);
      expect(() => checkShardedLimits(simulations, steps, 1, shards, true)).not.toThrow();
      expect(() => checkShardedLimits(simulations, steps, 1, shards - 1, true)).toThrow(/use at least/);
    }
    expect(minimumShards(3.9e9, 256, 1)).toBeLessThanOrEqual(MAX_SHARDS);
  });

  const rejects = async (params: Record<string, unknown>, pattern: RegExp) => {
    const error = await montecarloModel.run(job(params), context()).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('invalid_job');
    expect((error as JobError).message).toMatch(pattern);
  };
  it('reject more than 1e12 path-steps', () => rejects({ simulations: 4e9, time_steps: 300, shards: 1000 }, /limit is 1e\+12 for a sharded job/));
  it('reject shards beyond one instance, naming the shards needed', () =>
    rejects({ simulations: 2e7, time_steps: 1000, shards: 2 }, /params\.shards is 2: a shard would simulate 1000\d+ paths .* use at least 5 shards/));
  it('reject more than 5e9 paths, with or without volatility (1000 shards of one instance\'s 5e6)', async () => {
    await rejects({ volatility: 0, simulations: 6e9, time_steps: 1, shards: 1000 }, /params\.simulations is 6000000000; the limit is 5e\+9 for a sharded job/);
    await rejects({ simulations: 6e9, time_steps: 1, shards: 1000 }, /params\.simulations is 6000000000; the limit is 5e\+9 for a sharded job/);
  });
  it('reject shards outside 1-1000 in the schema', () => {
    for (const shards of [0, 1001, 2.5, '4']) expect(montecarloModel.params.safeParse({ shards }).success).toBe(false);
  });
});
