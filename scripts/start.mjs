// npm start: serves dist/$FUNCTION (default blackscholes) with the functions-framework on
// $PORT (default 8080), as Cloud Functions would. A busy port is said in one line, with the
// way out, instead of the framework's EADDRINUSE stack.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fn = process.env.FUNCTION || 'blackscholes';
const port = Number(process.env.PORT || 8080);

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`PORT=${process.env.PORT} is not a port number (1-65535).\n`);
  process.exit(2);
}
const busy = await new Promise((resolve) => {
  const probe = net.createServer();
  probe.once('error', (error) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? error.code : false));
  probe.listen(port, () => probe.close(() => resolve(false)));
});
if (busy) {
  const why = busy === 'EACCES' ? 'needs privileges' : 'is already in use (another npm start, npm run stack or server?)';
  process.stderr.write(`Port ${port} ${why}: stop that server, or choose another port with PORT, e.g. PORT=${port === 8080 ? 8081 : port + 1} npm start\n`);
  process.exit(1);
}
if (!existsSync(path.join(root, 'dist', fn, 'index.js'))) {
  process.stderr.write(`dist/${fn}/ is not built: FUNCTION is one of the folders of functions/ (npm run build builds them all).\n`);
  process.exit(2);
}
const server = spawn(path.join(root, 'node_modules', '.bin', 'functions-framework'), [`--source=${path.join(root, 'dist', fn)}`, `--target=${fn}`, '--signature-type=cloudevent', `--port=${port}`], {
  stdio: 'inherit',
  env: { ...process.env, USE_FIXTURE: process.env.USE_FIXTURE ?? 'true' },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
