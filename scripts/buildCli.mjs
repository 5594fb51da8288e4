// Builds the command-line runner, dist/cli/job.js (+ chunks, the Monte Carlo worker and the
// WebAssembly kernels), and records in dist/cli/inputs.json the files it was built from, so
// that scripts/job.mjs can tell whether it is stale without rebuilding. `npm run build` calls
// it; scripts/job.mjs calls it when a source is newer than the bundle.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle, copyWasm, root } from './bundle.mjs';
import { buildWasm, wasmKernels } from './buildWasm.mjs';

export const cliDir = path.join(root, 'dist', 'cli');

/** Builds the runner into `outdir` (default dist/cli, where scripts/job.mjs looks). */
export async function buildCli(wasmFiles, outdir = cliDir) {
  const wasm = wasmFiles ?? (await buildWasm());
  await fs.rm(outdir, { recursive: true, force: true });
  const metafile = await bundle(
    {
      job: path.join(root, 'scripts', 'job.ts'),
      montecarloWorker: path.join(root, 'shared', 'models', 'montecarlo', 'worker.ts'),
      blackscholesWorker: path.join(root, 'shared', 'models', 'blackscholes', 'worker.ts'),
      helperWorker: path.join(root, 'shared', 'parallel', 'helperWorker.ts'),
      // A large job's digest, on a helper thread while the job runs (shared/job/identityThread.ts).
      identityWorker: path.join(root, 'shared', 'job', 'identityWorker.ts'),
    },
    outdir,
    `node${process.versions.node}`,
  );
  await copyWasm(outdir, wasm);
  // The project's own sources, the kernels' WAT and the installed packages (npm ci rewrites
  // node_modules/.package-lock.json). Dependencies are
  // covered by that one file rather than by the thousands inside node_modules.
  const sources = Object.keys(metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  // Absolute, so that the launcher checks them without path arithmetic (a moved checkout finds
  // them missing, which counts as stale and rebuilds).
  const inputs = [...sources, ...wasmKernels.map((k) => k.source), 'node_modules/.package-lock.json', 'scripts/bundle.mjs', 'scripts/buildCli.mjs'].map((f) => path.join(root, f));
  await fs.writeFile(path.join(outdir, 'inputs.json'), JSON.stringify(inputs) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildCli();
}
