import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
    // Tests that inject a transient fault expect the functions-framework to print the thrown
    // TransientError (that is how a delivery is nacked): keep those expected traces out of
    // the output, and everything else in.
    onConsoleLog: (log, type) => (type === 'stderr' && /^TransientError: /.test(log) ? false : undefined),
  },
});
