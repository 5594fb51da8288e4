// Preloaded (node -r) into a job's process: prints its peak resident memory as the last
// stderr line when it exits, for test/limits/memoryLimits.test.ts.
process.on('exit', () => {
  process.stderr.write(`PEAK_RSS_MB ${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
});
