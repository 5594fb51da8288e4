/**
 * Monte Carlo shards of several symbols without stores (selection passes): what the second
 * simulation of every block costs. In one process (shared JIT and worker pool), alternating
 * in each round (the machine is shared: ratios within a round, medians of the rounds):
 *
 * 1. one instance (runMonteCarlo: stores, radix selection);
 * 2. the job in MC_SELECTION_BENCH_SHARDS shards keeping stores (one pass; the merge holds
 *    every terminal value, as one instance does);
 * 3. the same shards with selection passes: the shards' first pass (counts), then the
 *    merge's later passes (each shard simulated again, keeping the values near the ranks).
 *
 * 3 symbols, MC_SELECTION_BENCH_SIMULATIONS (default 1,000,000) x 63 steps, all cores.
 * Reports times, the second pass against the first, the merge's peak bytes and whether
 * every result is the same JSON. Prints a final BENCH_JSON line.
 */
import { loadavg } from 'node:os';
import { runMonteCarlo, type MonteCarloSpec } from '../shared/models/montecarlo/gbmModel.js';
import { stopWorkers } from '../shared/models/montecarlo/parallelRunner.js';
import { memoryShardStates, mergeShards, runShard, splitJob } from '../shared/models/montecarlo/shardedRun.js';

const simulations = Number(process.env.MC_SELECTION_BENCH_SIMULATIONS ?? 1_000_000);
const shards = Number(process.env.MC_SELECTION_BENCH_SHARDS ?? 4);
const rounds = Number(process.env.MC_SELECTION_BENCH_ROUNDS ?? 3);

const job = (n: number): MonteCarloSpec => ({
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
  weights: [0.5, 0.3, 0.2],
  simulations: n,
  timeSteps: 63,
  horizonYears: 0.25,
  seed: 7,
  confidenceLevels: [0.95, 0.99],
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function sharded(spec: MonteCarloSpec, selection: boolean) {
  const split = splitJob(spec, shards, { selection });
  const states = memoryShardStates();
  const t0 = performance.now();
  for (let i = 0; i < split.ranges.length; i++) await states.save(i, (await runShard(spec, split, i)).body);
  const t1 = performance.now();
  let peak = 0;
  const merged = await mergeShards(spec, split, states, { onMergeMemory: (b) => (peak = Math.max(peak, b)) });
  const t2 = performance.now();
  const bytes = [...states.bodies.values()].reduce((s, b) => s + b.length, 0);
  return { firstMs: t1 - t0, mergeMs: t2 - t1, totalMs: t2 - t0, peak, bytes, json: JSON.stringify(merged.result) };
}

const spec = job(simulations);
await runMonteCarlo(job(50_000)); // warm-up: workers, JIT
await sharded(job(50_000), true);
const load = [loadavg()[0]];
const one: number[] = [];
const stores: { total: number; merge: number }[] = [];
const passes: { first: number; merge: number; total: number; peak: number; bytes: number }[] = [];
let same = true;
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  const single = JSON.stringify((await runMonteCarlo(spec)).result);
  one.push(performance.now() - t0);
  const s = await sharded(spec, false);
  stores.push({ total: s.totalMs, merge: s.mergeMs });
  const p = await sharded(spec, true);
  passes.push({ first: p.firstMs, merge: p.mergeMs, total: p.totalMs, peak: p.peak, bytes: p.bytes });
  same &&= s.json === single && p.json === single;
  load.push(loadavg()[0]);
  console.log(
    `round ${round + 1}: one instance ${one[round].toFixed(0)} ms; ${shards} shards with stores ${s.totalMs.toFixed(0)} ms; ` +
      `with selection passes ${p.totalMs.toFixed(0)} ms (first pass ${p.firstMs.toFixed(0)}, merge and second pass ${p.mergeMs.toFixed(0)}); load ${loadavg()[0].toFixed(1)}`,
  );
}
await stopWorkers();

const summary = {
  simulations,
  time_steps: 63,
  symbols: 3,
  shards,
  one_instance_ms: median(one),
  stores_ms: median(stores.map((s) => s.total)),
  passes_ms: median(passes.map((p) => p.total)),
  first_pass_ms: median(passes.map((p) => p.first)),
  later_passes_ms: median(passes.map((p) => p.merge)),
  /** Per round: the selection job over the store-keeping one (what the second pass costs). */
  passes_over_stores: median(passes.map((p, i) => p.total / stores[i].total)),
  second_over_first: median(passes.map((p) => p.merge / p.first)),
  merge_peak_bytes_passes: median(passes.map((p) => p.peak)),
  merge_store_bytes: simulations * 4 * 8,
  partial_state_bytes_per_shard: passes[0].bytes / shards,
  load_average: load,
  same_result: same,
};
console.log(
  `3 symbols, ${simulations} x 63, ${shards} shards (medians of ${rounds}): one instance ${summary.one_instance_ms.toFixed(0)} ms; ` +
    `shards with stores ${summary.stores_ms.toFixed(0)} ms; with selection passes ${summary.passes_ms.toFixed(0)} ms ` +
    `(x${summary.passes_over_stores.toFixed(2)}; second pass / first ${summary.second_over_first.toFixed(2)}); ` +
    `merge peak ${(summary.merge_peak_bytes_passes / 2 ** 20).toFixed(1)} MiB vs ${(summary.merge_store_bytes / 2 ** 20).toFixed(0)} MiB of stores; ` +
    `${(summary.partial_state_bytes_per_shard / 1024).toFixed(0)} KiB a shard state; same result: ${same}`,
);
console.log('BENCH_JSON ' + JSON.stringify(summary));
