import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './freePort.js';

/** A running Pub/Sub emulator. */
export interface PubsubEmulator {
  /** `127.0.0.1:<port>`: the value of PUBSUB_EMULATOR_HOST for clients. */
  readonly host: string;
  /** Stops the emulator (its whole process group) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Where the Cloud SDK's Pub/Sub emulator is: `PUBSUB_EMULATOR_BIN`, else
 * `<sdk root>/platform/pubsub-emulator/bin/cloud-pubsub-emulator` with the SDK root that
 * `gcloud info` prints. Returns a reason instead when it is not installed (or Java is missing).
 */
export function locatePubsubEmulator(env: NodeJS.ProcessEnv = process.env): { bin: string } | { missing: string } {
  let bin = env.PUBSUB_EMULATOR_BIN;
  if (!bin) {
    let sdkRoot: string;
    try {
      sdkRoot = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).trim();
    } catch {
      return { missing: 'the Cloud SDK (gcloud) is not installed' };
    }
    bin = path.join(sdkRoot, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
  }
  if (!existsSync(bin)) return { missing: `the Pub/Sub emulator is not installed (${bin}; gcloud components install pubsub-emulator)` };
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    return { missing: 'Java (17 or later), which the Pub/Sub emulator runs on, is not installed' };
  }
  return { bin };
}

const guard = path.join(path.dirname(fileURLToPath(import.meta.url)), 'processGuard.mjs');

/**
 * Starts the emulator on a free port of 127.0.0.1 and waits until it listens (about a
 * second). It stops with `stop()`, or by itself when this process ends.
 */
export async function startPubsubEmulator(bin: string, options: { port?: number; timeoutMs?: number } = {}): Promise<PubsubEmulator> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(bin, port, options.timeoutMs ?? 60_000);
    } catch (error) {
      // Another process took the port between our check and the emulator's bind: pick again.
      if (options.port !== undefined || attempt >= 2 || !String(error).includes('address already in use')) throw error;
    }
  }
}

function launch(bin: string, port: number, timeoutMs: number): Promise<PubsubEmulator> {
  const child = spawn(process.execPath, [guard, bin, '--host=127.0.0.1', `--port=${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  return new Promise<PubsubEmulator>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`The Pub/Sub emulator did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.stdin?.end();
      reject(error);
    };
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/Server started, listening on/.test(output)) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stderr?.removeAllListeners('data');
        // Keep draining, so a chatty emulator never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ host: `127.0.0.1:${port}`, stop: () => stopChild(child) });
      } else if (/address already in use|BindException/i.test(output)) {
        fail(new Error(`address already in use: ${port}`));
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', (code) => fail(new Error(`The Pub/Sub emulator exited (code ${code}) before it listened:\n${output}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end(); // the guard kills the emulator's process group and exits
  });
}
