// Bundles each function into dist/<function>/: index.js (+ chunks and workers), the fixture
// prices, and the package.json Cloud Functions installs. Prints each bundle's size.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildCli } from './buildCli.mjs';
import { bundle, copyWasm, root } from './bundle.mjs';
import { buildWasm } from './buildWasm.mjs';
import { deployedRuntimes, nodeMajor } from './nodeRuntime.mjs';

const rootPackage = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8'));

const runtimeDependencies = {
  ingest: ['@google-cloud/functions-framework', '@google-cloud/secret-manager'],
};
const extraEntries = {
  montecarlo: { montecarloWorker: 'shared/models/montecarlo/worker.ts' },
  blackscholes: { blackscholesWorker: 'shared/models/blackscholes/worker.ts' },
  // The helper thread that reads half of a large fixture CSV and computes half a covariance product.
  markowitz: { helperWorker: 'shared/parallel/helperWorker.ts' },
};

// WebAssembly kernels (scripts/buildWasm.mjs): assembled first, then copied next to every bundle that loads one.
const wasmFiles = await buildWasm();

// `--outdir=<folder>` builds elsewhere than dist/ (a test that must not race the suites
// serving dist/); the folder must be inside the repository, so that the bundles' external
// packages resolve from its node_modules.
const args = process.argv.slice(2);
const outArg = args.find((a) => a.startsWith('--outdir='));
const distRoot = outArg ? path.resolve(outArg.slice('--outdir='.length)) : path.join(root, 'dist');
// Each bundle targets the Node major of the runtime Terraform deploys it on, and its
// package.json says so: the runtime's buildpack wants engines.node compatible with it (and
// no ">" range), and Terraform refuses to deploy a bundle whose engines do not match.
const runtimes = await deployedRuntimes();

const only = args.filter((a) => !a.startsWith('--'));
const functions = (await fs.readdir(path.join(root, 'functions'))).filter((f) => only.length === 0 || only.includes(f)).sort();
const sizes = [];
for (const fn of functions) {
  const outdir = path.join(distRoot, fn);
  await fs.rm(outdir, { recursive: true, force: true });
  const entryPoints = { index: path.join(root, 'functions', fn, 'index.ts') };
  for (const [name, file] of Object.entries(extraEntries[fn] ?? {})) entryPoints[name] = path.join(root, file);
  if (!runtimes[fn]) throw new Error(`functions/${fn} has no entry in terraform/functions.tf function_settings`);
  const major = nodeMajor(runtimes[fn]);
  await bundle(entryPoints, outdir, `node${major}`);
  await copyWasm(outdir, wasmFiles);
  await fs.mkdir(path.join(outdir, 'fixtures'), { recursive: true });
  await fs.copyFile(path.join(root, 'fixtures', 'prices.csv'), path.join(outdir, 'fixtures', 'prices.csv'));
  const dependencies = Object.fromEntries((runtimeDependencies[fn] ?? ['@google-cloud/functions-framework']).map((d) => [d, rootPackage.dependencies[d]]));
  const deployPackage = { name: `${fn}-function`, version: rootPackage.version, private: true, type: 'module', main: 'index.js', engines: { node: `${major}.x` }, dependencies };
  await fs.writeFile(path.join(outdir, 'package.json'), JSON.stringify(deployPackage, null, 2) + '\n');
  const index = (await fs.stat(path.join(outdir, 'index.js'))).size;
  sizes.push({ fn, runtime: runtimes[fn], index, total: await folderSize(outdir) });
}

// The command-line runner (`node dist/cli/job.js`, what `npm run job` runs), which the benchmarks
// time as a whole process: it runs here, so it targets the Node running the build.
await buildCli(wasmFiles, path.join(distRoot, 'cli'));

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
process.stderr.write('Built functions:\n');
const shown = path.relative(root, distRoot) || '.';
for (const s of sizes) process.stderr.write(`  ${shown}/${s.fn.padEnd(13)} index.js ${kb(s.index).padStart(10)}   folder ${kb(s.total).padStart(10)}   ${s.runtime}\n`);

async function folderSize(dir) {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await folderSize(p) : (await fs.stat(p)).size;
  }
  return total;
}
