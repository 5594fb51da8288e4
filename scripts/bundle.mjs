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

// See scripts/shims/whatwgUrl.cjs. html-entities is imported as ESM by the Storage client and
// required as CommonJS by BigQuery's: one copy (its CommonJS build serves both) rather than two
// of its 35 KB entity table, evaluated on a cloud function's first event.
const alias = {
  'whatwg-url': path.join(root, 'scripts', 'shims', 'whatwgUrl.cjs'),
  'html-entities': path.join(root, 'node_modules', 'html-entities', 'dist', 'commonjs', 'index.js'),
};

/**
 * One copy of each package at one version. npm installs a package several times at the same
 * version when the root holds another major of it (gaxios 7 under google-auth-library and
 * under gcp-metadata, the root having the Storage client's gaxios 6; uuid 9; node-fetch 3):
 * bundled as they are, a cloud function's first event would load and evaluate each copy. A
 * module inside such a copy is taken from the copy whose path sorts first (the lockfile
 * lists them), so the bundle is the same from build to build.
 */
const dedupe = {
  name: 'dedupe-installed-copies',
  async setup(build) {
    const lock = JSON.parse(await fs.readFile(path.join(root, 'node_modules', '.package-lock.json'), 'utf8'));
    const copies = new Map(); // name@version -> folders holding it
    for (const [folder, entry] of Object.entries(lock.packages)) {
      const name = folder.slice(folder.lastIndexOf('node_modules/') + 'node_modules/'.length);
      if (!folder.includes('node_modules/') || entry.link) continue;
      const key = `${name}@${entry.version}`;
      copies.set(key, [...(copies.get(key) ?? []), folder]);
    }
    const canonical = new Map(); // folder -> the first folder holding the same version
    for (const folders of copies.values()) {
      if (folders.length < 2) continue;
      const [first, ...others] = [...folders].sort();
      for (const folder of others) canonical.set(path.join(root, folder) + path.sep, path.join(root, first) + path.sep);
    }
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === dedupe) return undefined;
      const result = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, namespace: args.namespace, pluginData: dedupe });
      // Left to esbuild's own resolution (which knows an unresolved require in a try block is fine).
      if (result.errors.length > 0 || result.external) return undefined;
      // The innermost installed folder holding the file.
      const at = result.path.lastIndexOf(`${path.sep}node_modules${path.sep}`);
      if (at < 0) return undefined;
      const rest = result.path.slice(at + '/node_modules/'.length).split(path.sep);
      const folder = result.path.slice(0, at + '/node_modules/'.length) + rest.slice(0, rest[0].startsWith('@') ? 2 : 1).join(path.sep) + path.sep;
      const first = canonical.get(folder);
      return first ? { path: first + result.path.slice(folder.length), sideEffects: result.sideEffects } : undefined;
    });
  },
};

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
    plugins: [dedupe],
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
