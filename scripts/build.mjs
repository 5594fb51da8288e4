// Bundles each function into dist/<function>/: index.js (+ chunks and workers), the fixture
// prices, and the package.json Cloud Functions installs. Prints each bundle's size.
import { build } from 'esbuild';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasm } from './buildWasm.mjs';
import { deployedRuntimes, nodeMajor } from './nodeRuntime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rootPackage = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8'));

// The runtime's functions-framework must be the one the function registers with, so it
// stays external and Cloud Functions installs it from the generated package.json. So does
// the Secret Manager client (gRPC: it reads .proto files from disk at run time, which
// bundling breaks). The Storage and BigQuery clients are plain REST: bundled into chunks
// that load on the first event that needs them.
const external = ['@google-cloud/functions-framework', '@google-cloud/secret-manager'];
const runtimeDependencies = {
  ingest: ['@google-cloud/functions-framework', '@google-cloud/secret-manager'],
};
const extraEntries = {
  montecarlo: { montecarloWorker: 'shared/models/montecarlo/worker.ts' },
};

// Bundled CommonJS (jstat) may call require(); give ESM output one.
// Chunks sit beside the entry points (no subfolder) so that a URL relative to
// import.meta.url, like the Monte Carlo worker's, resolves the same from any chunk.
const banner = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" };

// See scripts/shims/whatwgUrl.cjs.
const alias = { 'whatwg-url': path.join(root, 'scripts', 'shims', 'whatwgUrl.cjs') };

// WebAssembly kernels (scripts/buildWasm.mjs): assembled first, then copied next to every
// bundle folder that loads one (`new URL('./<name>.wasm', import.meta.url)`; chunks sit
// beside the entry points, so one copy per folder serves them all).
const wasmFiles = await buildWasm();
async function copyWasm(outdir) {
  const code = (await fs.readdir(outdir)).filter((f) => f.endsWith('.js'));
  const texts = await Promise.all(code.map((f) => fs.readFile(path.join(outdir, f), 'utf8')));
  for (const file of wasmFiles) {
    const name = path.basename(file);
    if (texts.some((t) => t.includes(name))) await fs.copyFile(file, path.join(outdir, name));
  }
}

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
  await copyWasm(outdir);
  await fs.mkdir(path.join(outdir, 'fixtures'), { recursive: true });
  await fs.copyFile(path.join(root, 'fixtures', 'prices.csv'), path.join(outdir, 'fixtures', 'prices.csv'));
  const dependencies = Object.fromEntries((runtimeDependencies[fn] ?? ['@google-cloud/functions-framework']).map((d) => [d, rootPackage.dependencies[d]]));
  const deployPackage = { name: `${fn}-function`, version: rootPackage.version, private: true, type: 'module', main: 'index.js', engines: { node: `${major}.x` }, dependencies };
  await fs.writeFile(path.join(outdir, 'package.json'), JSON.stringify(deployPackage, null, 2) + '\n');
  const index = (await fs.stat(path.join(outdir, 'index.js'))).size;
  sizes.push({ fn, runtime: runtimes[fn], index, total: await folderSize(outdir) });
}

// The command-line runner (`node dist/cli/job.js`), which the benchmarks time as a whole
// process: it runs here, so it targets the Node running the build.
await fs.rm(path.join(distRoot, 'cli'), { recursive: true, force: true });
await bundle({ job: path.join(root, 'scripts', 'job.ts'), montecarloWorker: path.join(root, extraEntries.montecarlo.montecarloWorker) }, path.join(distRoot, 'cli'), `node${process.versions.node}`);
await copyWasm(path.join(distRoot, 'cli'));

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
process.stderr.write('Built functions:\n');
const shown = path.relative(root, distRoot) || '.';
for (const s of sizes) process.stderr.write(`  ${shown}/${s.fn.padEnd(13)} index.js ${kb(s.index).padStart(10)}   folder ${kb(s.total).padStart(10)}   ${s.runtime}\n`);

/** ESM bundles for `target` (e.g. node24), minified (less to parse at cold start), names kept for stack traces. */
function bundle(entryPoints, outdir, target) {
  return build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target,
    external,
    alias,
    banner,
    chunkNames: '[name]-[hash]',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

async function folderSize(dir) {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await folderSize(p) : (await fs.stat(p)).size;
  }
  return total;
}
