import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A running Pub/Sub emulator: its host:port (the value of PUBSUB_EMULATOR_HOST) and how to stop it. */
export interface RunningPubsubEmulator {
  readonly host: string;
  stop(): Promise<void>;
}

/**
 * The emulator's launcher: PUBSUB_EMULATOR_BIN, else the Google Cloud SDK's; or the reason
 * it is missing. The same signatures as scripts/pubsub/emulator.ts on the issue-10 branch,
 * so that this file can be replaced by an import of it.
 */
export function locatePubsubEmulator(env: NodeJS.ProcessEnv = process.env): { bin: string } | { missing: string } {
  if (env.PUBSUB_EMULATOR_BIN) return existsSync(env.PUBSUB_EMULATOR_BIN) ? { bin: env.PUBSUB_EMULATOR_BIN } : { missing: `PUBSUB_EMULATOR_BIN=${env.PUBSUB_EMULATOR_BIN} does not exist` };
  const probe = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8' });
  const root = probe.status === 0 ? probe.stdout.trim() : '';
  if (!root) return { missing: 'gcloud is not installed (the Pub/Sub emulator comes with the Google Cloud SDK)' };
  const bin = path.join(root, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
  if (!existsSync(bin)) return { missing: `the Pub/Sub emulator is not installed (gcloud components install pubsub-emulator): ${bin} is missing` };
  return { bin };
}

/** A port on 127.0.0.1 that was free a moment ago (the emulator cannot be given port 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the emulator on a free port of 127.0.0.1 and resolves once it accepts requests.
 * Retries on another port if the chosen one was taken in between (other test runs share
 * the machine).
 */
export async function startPubsubEmulator(bin: string, { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<RunningPubsubEmulator> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['--host=127.0.0.1', `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    try {
      await waitForStart(child, timeoutMs);
      return { host: `127.0.0.1:${port}`, stop: () => stopProcess(child) };
    } catch (error) {
      lastError = error;
      await stopProcess(child);
    }
  }
  throw lastError;
}

function waitForStart(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`the Pub/Sub emulator did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/Server started, listening on/.test(output)) finish();
      if (/Address already in use|BindException/.test(output)) finish(new Error(`port taken:\n${output}`));
    };
    const onExit = (code: number | null) => finish(new Error(`the Pub/Sub emulator exited (${code}) before starting:\n${output}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining the pipes so the emulator never blocks on a full one.
      child.stdout?.resume();
      child.stderr?.resume();
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
