import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts a worker thread on `url`: a bundled .js script directly; a .ts one (vitest, tsx)
 * through tsx's CommonJS register hook from a small eval'd bootstrap, because under Node 20 a
 * worker does not inherit the parent's ESM loader hooks, and `execArgv: ['--import', 'tsx']`
 * is not honoured when the parent itself runs under tsx.
 */
export function startWorker(url: URL, resourceLimits?: ResourceLimits): Worker {
  const options = resourceLimits ? { resourceLimits } : {};
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsxRegister = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsxRegister)}).register(); require(${JSON.stringify(fileURLToPath(url))});`;
  return new Worker(bootstrap, { eval: true, ...options });
}
