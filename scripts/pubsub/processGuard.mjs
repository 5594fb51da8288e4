// node processGuard.mjs <command> [args...]
// Runs a command in its own process group and kills the whole group when this guard's
// stdin closes, i.e. when the process that started it ends, even by kill -9. The Pub/Sub
// emulator is a shell script that starts Java: without the guard, a test run that dies
// would leave a Java server behind.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
