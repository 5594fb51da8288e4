// The esbuild settings every bundle shares (the functions in dist/<function>/, the command-line
// runner in dist/cli/), and the copy of the WebAssembly kernels next to the bundles that load one.
import { build } from 'esbuild';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The runtime's functions-framework must be the one the function registers with, so it
// stays external and Cloud Functions installs it from the generated package.json. So does
// the Secret Manager client (gRPC: it reads .proto files from disk at run time, which
// bundling breaks). The Storage and BigQuery clients are plain REST: bundled into chunks
// that load on the first event that needs them.
export const external = ['@google-cloud/functions-framework', '@google-cloud/secret-manager'];

// Bundled CommonJS (jstat) may call require(); give ESM output one.
const banner = { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" };

// See scripts/shims/whatwgUrl.cjs.
const alias = { 'whatwg-url': path.join(root, 'scripts', 'shims', 'whatwgUrl.cjs') };

/**
 * ESM bundles for `target` (e.g. node24), minified (less to parse at cold start), names kept for stack traces.
 * Chunks sit beside the entry points (no subfolder) so that a URL relative to
 * import.meta.url, like the Monte Carlo worker's, resolves the same from any chunk.
 * Returns esbuild's metafile (the inputs that went into the bundle).
 */
export async function bundle(entryPoints, outdir, target) {
  const result = await build({
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
    metafile: true,
  });
  return result.metafile;
}

/**
 * WebAssembly kernels (scripts/buildWasm.mjs) are copied next to every bundle folder that
 * loads one (`new URL('./<name>.wasm', import.meta.url)`; chunks sit beside the entry points,
 * so one copy per folder serves them all).
 */
export async function copyWasm(outdir, wasmFiles) {
  const code = (await fs.readdir(outdir)).filter((f) => f.endsWith('.js'));
  const texts = await Promise.all(code.map((f) => fs.readFile(path.join(outdir, f), 'utf8')));
  for (const file of wasmFiles) {
    const name = path.basename(file);
    if (texts.some((t) => t.includes(name))) await fs.copyFile(file, path.join(outdir, name));
  }
}
