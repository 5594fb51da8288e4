// node functionHost.mjs <dist/<function> folder> <function name> <port>
// Serves a built function with the functions-framework on 127.0.0.1:<port>: the bundle
// registers its CloudEvent function, and the framework's own server (the one its CLI
// builds, via its public getTestServer) answers, bound to the loopback interface (the
// framework's CLI binds every interface). Exits when its parent's pipe closes.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { getTestServer } from '@google-cloud/functions-framework/testing';

const [source, target, port] = process.argv.slice(2);
await import(pathToFileURL(path.resolve(source, 'index.js')).href);
const server = getTestServer(target);
server.setTimeout(0);
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ severity: 'INFO', message: `Serving ${target} on http://127.0.0.1:${port}/` }) + '\n');
});
server.on('error', (error) => {
  process.stderr.write(JSON.stringify({ severity: 'ERROR', message: `Cannot serve ${target}: ${error.message}`, code: error.code }) + '\n');
  process.exit(1);
});
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
