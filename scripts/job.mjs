// `npm run job`: runs the bundled command-line runner (dist/cli/job.js, built from
// scripts/job.ts), so that no TypeScript is compiled at run time. The bundle is rebuilt first
// only when it is missing or one of the files it was built from (dist/cli/inputs.json) is
// newer; checking is a few dozen stat calls.
import { statSync, readFileSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli', 'job.js');

function stale() {
  let built;
  let inputs;
  try {
    built = statSync(cli).mtimeMs;
    inputs = JSON.parse(readFileSync(path.join(root, 'dist', 'cli', 'inputs.json'), 'utf8'));
  } catch {
    return true;
  }
  // A file that is gone (renamed, deleted) also means the bundle no longer matches the sources.
  return inputs.some((file) => (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) > built);
}

// Node 22+ keeps the bundle's compiled code between runs (a no-op where absent).
module.enableCompileCache?.();

if (stale()) {
  const { buildCli } = await import('./buildCli.mjs');
  await buildCli();
}
await import(pathToFileURL(cli).href);
