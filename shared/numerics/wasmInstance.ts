import { readFileSync } from 'node:fs';

/**
 * Instantiates the WebAssembly module at `url` (a .wasm the build writes beside the module that
 * asks: scripts/buildWasm.mjs), synchronously, because a kernel's first caller needs it at once.
 * Null where the runtime cannot validate it (no WebAssembly SIMD): callers then use their
 * JavaScript reference.
 * @throws Error when the .wasm is not there (not assembled)
 */
export function instantiateWasm(url: URL, imports?: WebAssembly.Imports): WebAssembly.Instance | null {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(readFileSync(url));
  } catch (cause) {
    const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
    throw new Error(`${name} is missing beside its module: run \`node scripts/buildWasm.mjs\` (npm test and npm run build do).`, { cause });
  }
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
}
