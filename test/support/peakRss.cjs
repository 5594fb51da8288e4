// Preloaded (node -r) into a job's process: prints its peak resident memory as the last
// stderr line when it exits, for test/limits/memoryLimits.test.ts. Only the main thread
// prints: a preload runs in every worker thread too, and a worker ending first would print
// the process's peak so far, which the test would take for the job's.
if (require('node:worker_threads').isMainThread) {
  process.on('exit', () => {
    process.stderr.write(`PEAK_RSS_MB ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
  });
}
