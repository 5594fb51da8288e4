// npm run demo: starts each built function with the functions-framework (as Cloud Functions
// does), sends it its fixture job as a real Pub/Sub CloudEvent over HTTP, and prints what
// came back and where the artifacts are. Fixture prices, local storage: no cloud account.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(process.env.LOCAL_DATA_DIR ?? path.join(root, '.local'));
const frameworkBin = path.join(root, 'node_modules', '.bin', 'functions-framework');
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const order = ['blackscholes', 'montecarlo', 'markowitz', 'ingest'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : order;
const unknown = wanted.filter((name) => !order.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`Unknown function "${unknown[0]}": npm run demo runs ${order.join(', ')}.\nusage: npm run demo [-- <${order.join('|')}>...]\n`);
  process.exit(2);
}

function sendCloudEvent(port, fn, job) {
  const messageId = randomUUID();
  const publishTime = new Date().toISOString();
  return fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': messageId,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': `//pubsub.googleapis.com/projects/demo/topics/jobs-${fn}`,
      'ce-time': publishTime,
    },
    body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(job)).toString('base64'), messageId, publishTime }, subscription: `projects/demo/subscriptions/jobs-${fn}` }),
  }).then(async (r) => (await r.text(), r.status));
}

const pct = (v) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(2)}%`);
const num = (v, d = 4) => (v === null || v === undefined ? '-' : Number(v).toFixed(d));

const summaries = {
  blackscholes(doc) {
    const rows = doc.result.options ?? [];
    console.log('   type  symbol     spot   strike      T     vol      price     delta     gamma      theta      vega  implied vol');
    for (const o of rows.slice(0, 12)) {
      console.log(
        `   ${o.option_type.padEnd(5)} ${String(o.symbol ?? '-').padEnd(6)} ${num(o.spot, 2).padStart(8)} ${num(o.strike, 2).padStart(8)} ${num(o.time_to_expiry, 2).padStart(6)} ${pct(o.volatility).padStart(7)} ${num(o.price).padStart(10)} ${num(o.delta).padStart(9)} ${num(o.gamma).padStart(9)} ${num(o.theta).padStart(10)} ${num(o.vega).padStart(9)}  ${o.market_price !== undefined ? (o.implied_volatility === null ? `none: ${o.implied_volatility_error}` : pct(o.implied_volatility)) : ''}`,
      );
    }
    if (rows.length > 12) console.log(`   ... ${rows.length - 12} more options`);
  },
  montecarlo(doc) {
    const r = doc.result;
    console.log(`   ${doc.inputs.simulations} paths x ${doc.inputs.time_steps} steps, seed ${doc.inputs.seed}`);
    for (const [sym, s] of Object.entries(r.symbols)) {
      console.log(`   ${sym.padEnd(6)} S0 ${num(s.initial_price, 2)}  drift ${pct(s.drift)}  vol ${pct(s.volatility)}  E[S_T] ${num(s.expected_terminal_price, 2)}  p5..p95 ${num(s.terminal_price.percentiles.p5, 2)}..${num(s.terminal_price.percentiles.p95, 2)}  P(loss) ${pct(s.probability_of_loss)}`);
    }
    const p = r.portfolio;
    console.log(`   portfolio: expected return ${pct(p.expected_return)}, volatility ${pct(p.volatility_of_return)}`);
    for (const c of Object.keys(p.var)) console.log(`   VaR ${c}: ${pct(p.var[c])}   CVaR ${c}: ${pct(p.cvar[c])}`);
  },
  ingest(doc) {
    const r = doc.result;
    console.log(`   ${r.rows_loaded} rows into ${r.table} (${r.rows_inserted} new, ${r.rows_updated} updated), ${r.corporate_actions} corporate actions, ${r.rejected_rows.length} rejected rows`);
    for (const [sym, s] of Object.entries(r.per_symbol)) console.log(`   ${sym}: ${s.rows} days ${s.first_date}..${s.last_date}`);
  },
  markowitz(doc) {
    const r = doc.result;
    const show = (name, p) => {
      if (!p) return console.log(`   ${name}: none${r.max_sharpe_error ? ` (${r.max_sharpe_error})` : ''}`);
      const w = Object.entries(p.weights).map(([s, v]) => `${s} ${pct(v)}`).join(', ');
      console.log(`   ${name}: return ${pct(p.expected_return)}, volatility ${pct(p.volatility)}, Sharpe ${num(p.sharpe, 3)}; weights ${w}`);
    };
    show('minimum variance', r.gmv);
    show('max Sharpe      ', r.max_sharpe);
    console.log(`   covariance ${doc.inputs.covariance ?? ''}, shrinkage ${num(r.shrinkage, 4)}, frontier of ${r.frontier.length} points`);
  },
};

/** EODHD's endpoints answered from fixtures/vendors/eodhd/<endpoint>-<SYMBOL>.json. */
async function startVendorReplay() {
  const http = await import('node:http');
  const server = http.createServer(async (req, res) => {
    const match = /^\/api\/(eod|div|splits)\/([^/?]+)/.exec(req.url ?? '');
    const file = match && path.join(root, 'fixtures', 'vendors', 'eodhd', `${match[1]}-${decodeURIComponent(match[2])}.json`);
    if (file && existsSync(file)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(await fs.readFile(file));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Ticker Not Found.');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The functions-framework did not listen on port ${port} within ${timeoutMs} ms.`);
}

async function main() {
let failures = 0;
for (const fn of wanted) {
  const jobFile = path.join(root, 'fixtures', 'jobs', `${fn}.json`);
  if (!existsSync(path.join(root, 'dist', fn, 'index.js')) || !existsSync(jobFile)) {
    console.log(`\n== ${fn}: not built or no fixture job, skipped`);
    continue;
  }
  const job = JSON.parse(await fs.readFile(jobFile, 'utf8'));
  job.job_id = `${job.job_id}-${stamp}`;
  // The ingest demo talks to a local server replaying the recorded vendor responses.
  const vendor = fn === 'ingest' ? await startVendorReplay() : undefined;
  const vendorEnv = vendor ? { EODHD_BASE_URL: `${vendor.url}/api`, EODHD_API_KEY: 'demo-key' } : {};
  const port = await freePort();
  const server = spawn(frameworkBin, [`--source=${path.join(root, 'dist', fn)}`, `--target=${fn}`, '--signature-type=cloudevent', `--port=${port}`], {
    env: { ...process.env, USE_FIXTURE: 'true', LOCAL_DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARNING', ...vendorEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForPort(port);
    const started = performance.now();
    const status = await sendCloudEvent(port, fn, job);
    const elapsed = performance.now() - started;
    const folder = path.join(dataDir, 'bucket', 'jobs', fn, job.job_id);
    const document = JSON.parse(await fs.readFile(path.join(folder, 'result.json'), 'utf8'));
    console.log(`\n== ${fn}: job ${job.job_id} -> ${document.status} (HTTP ${status}, ${elapsed.toFixed(0)} ms round trip)`);
    if (document.status === 'completed') summaries[fn]?.(document);
    else {
      failures++;
      console.log(`   error ${document.error.code}: ${document.error.message}`);
    }
    console.log(`   artifacts: ${path.relative(process.cwd(), folder)}/ (${(await fs.readdir(folder)).sort().join(', ')})`);
  } finally {
    server.kill('SIGTERM');
    vendor?.close();
  }
}
console.log(`\nWarehouse rows (NDJSON): ${path.relative(process.cwd(), path.join(dataDir, 'bigquery'))}/`);
process.exitCode = failures ? 1 : 0;
}

await main();
