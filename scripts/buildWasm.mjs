// Assembles the WebAssembly kernels from their committed WAT source with wabt (the
// WebAssembly Binary Toolkit's npm port): shared/numerics/random/normalStepKernel.wat ->
// normalStepKernel.wasm beside it (gitignored). Run by `npm test` (pretest) and by
// scripts/build.mjs, which also copies the .wasm next to the bundles.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The kernels: WAT source -> .wasm output, relative to the repository root. */
export const wasmKernels = [
  { source: 'shared/numerics/random/normalStepKernel.wat', output: 'shared/numerics/random/normalStepKernel.wasm' },
  { source: 'shared/models/markowitz/crossProductsKernel.wat', output: 'shared/models/markowitz/crossProductsKernel.wasm' },
  { source: 'shared/numerics/linalg/choleskyKernel.wat', output: 'shared/numerics/linalg/choleskyKernel.wasm' },
];

/** Assembles every kernel; returns the absolute paths of the .wasm files written. */
export async function buildWasm() {
  const wabt = await wabtInit();
  const written = [];
  for (const { source, output } of wasmKernels) {
    const text = await fs.readFile(path.join(root, source), 'utf8');
    const module = wabt.parseWat(source, text, { simd: true });
    try {
      module.resolveNames();
      module.validate();
      const { buffer } = module.toBinary({ log: false, write_debug_names: false });
      const out = path.join(root, output);
      await fs.writeFile(out, buffer);
      written.push(out);
    } finally {
      module.destroy();
    }
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildWasm();
}
