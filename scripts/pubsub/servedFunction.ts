import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './freePort.js';

/** A built function (dist/<name>) served by the functions-framework in its own process. */
export interface ServedFunction {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Every line the process wrote (stdout and stderr), in order. */
  readonly lines: string[];
  /** Ends the process and waits for it. */
  stop(): Promise<void>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const host = path.join(root, 'scripts', 'pubsub', 'functionHost.mjs');

/**
 * Serves `dist/<name>` on 127.0.0.1 (a free port, or `port` to come back where a push
 * subscription points) with `env` added to this process's environment. Resolves once it
 * listens; the process ends with `stop()`, or by itself when this process ends.
 */
export async function serveFunction(name: string, env: Record<string, string>, options: { port?: number; distDir?: string } = {}): Promise<ServedFunction> {
  const port = options.port ?? (await freePort());
  const source = path.join(options.distDir ?? path.join(root, 'dist'), name);
  const child = spawn(process.execPath, [host, source, name, String(port)], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  const lines: string[] = [];
  let pending = '';
  const collect = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${lines.join('\n')}`)), 30_000);
    const check = () => {
      if (lines.some((l) => l.includes(`Serving ${name} on`))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it listened:\n${lines.join('\n')}${pending}`));
    });
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    lines,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
      }),
  };
}
