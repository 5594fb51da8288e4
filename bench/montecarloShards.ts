/**
 * Monte Carlo shards: what splitting costs over one instance, and the numbers the README's
 * projection for 1e12 path-steps rests on. In one process (so both sides share the warm
 * JIT and the worker pool):
 *
 * 1. One asset, MC_SHARD_BENCH_SIMULATIONS (default 2,000,000) x 252 steps: one instance
 *    (runMonteCarlo, all cores) against the same job in 10 shards (each shard simulated,
 *    serialized, then all parsed and merged), median of 3; the merge alone; bytes a shard.
 * 2. The merge at scale: 200,000,000 paths x 1 step in 1000 shards (48,829 blocks; one step
 *    keeps the simulation short, the merge's work is per block and per shard), timed alone.
 * 3. The single-thread rate of the simulation (path-steps per second per core).
 *
 * Prints a summary and a final BENCH_JSON line.
 */
import { runMonteCarlo, type MonteCarloSpec } from '../shared/models/montecarlo/gbmModel.js';
import { stopWorkers } from '../shared/models/montecarlo/parallelRunner.js';
import { memoryShardStates, mergeShards, runShard, splitJob } from '../shared/models/montecarlo/shardedRun.js';

const spec = (simulations: number, timeSteps: number): MonteCarloSpec => ({
  assets: [{ name: 'asset', initialPrice: 100, drift: 0.08, volatility: 0.2 }],
  correlation: [[1]],
  weights: [1],
  simulations,
  timeSteps,
  horizonYears: 1,
  seed: 42,
  confidenceLevels: [0.95, 0.99],
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function sharded(job: MonteCarloSpec, shards: number) {
  const split = splitJob(job, shards);
  const states = memoryShardStates();
  const t0 = performance.now();
  for (let i = 0; i < split.ranges.length; i++) await states.save(i, (await runShard(job, split, i)).body);
  const t1 = performance.now();
  const merged = await mergeShards(job, split, states);
  const t2 = performance.now();
  const bytes = [...states.bodies.values()].reduce((s, b) => s + b.length, 0);
  return { shardsMs: t1 - t0, mergeMs: t2 - t1, bytes, result: merged.result, shards: split.ranges.length };
}

const simulations = Number(process.env.MC_SHARD_BENCH_SIMULATIONS ?? 2_000_000);
const job = spec(simulations, 252);
await runMonteCarlo(spec(100_000, 252)); // warm-up: workers, JIT
const one: number[] = [];
const ten: { total: number; merge: number; bytes: number }[] = [];
let same = true;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  const single = await runMonteCarlo(job);
  one.push(performance.now() - t0);
  const s = await sharded(job, 10);
  ten.push({ total: s.shardsMs + s.mergeMs, merge: s.mergeMs, bytes: s.bytes });
  same &&= JSON.stringify(s.result) === JSON.stringify(single.result);
}
const oneMs = median(one);
const tenMs = median(ten.map((t) => t.total));
const mergeMs = median(ten.map((t) => t.merge));
console.log(`one asset, ${simulations} x 252: one instance ${oneMs.toFixed(0)} ms; 10 shards in one process ${tenMs.toFixed(0)} ms (${((tenMs / oneMs - 1) * 100).toFixed(1)}% more), of which the merge ${mergeMs.toFixed(1)} ms; ${(ten[0].bytes / 10 / 1024).toFixed(1)} KiB a shard; same result: ${same}`);

const large = spec(200_000_000, 1);
const big = await sharded(large, 1000);
console.log(`merge of ${big.shards} shards, ${Math.ceil(200_000_000 / 4096)} blocks: ${big.mergeMs.toFixed(0)} ms, ${(big.bytes / 1024 / 1024).toFixed(1)} MiB of partial states (${(big.mergeMs / Math.ceil(200_000_000 / 4096) * 1000).toFixed(2)} us a block)`);

const rateJob = spec(400_000, 252);
const r0 = performance.now();
await runMonteCarlo(rateJob, { threads: 1 });
const perCore = (400_000 * 252) / ((performance.now() - r0) / 1000);
console.log(`single-thread rate: ${(perCore / 1e6).toFixed(0)} M path-steps/s`);

await stopWorkers();
console.log(
  'BENCH_JSON ' +
    JSON.stringify({
      simulations,
      one_instance_ms: oneMs,
      ten_shards_ms: tenMs,
      merge_ms: mergeMs,
      overhead: tenMs / oneMs - 1,
      bytes_per_shard: ten[0].bytes / 10,
      same_result: same,
      large_merge: { shards: big.shards, blocks: Math.ceil(200_000_000 / 4096), ms: big.mergeMs, bytes: big.bytes },
      path_steps_per_second_per_core: perCore,
    }),
);
