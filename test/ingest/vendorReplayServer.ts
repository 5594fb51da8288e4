import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { vendorSamplePath, vendorSamplesAvailable } from '../support/vendorSamples.js';

/** A local HTTP server that answers like EODHD (under /api) and Twelve Data (under /td) from the recorded fixtures. */

const fixtureDir = new URL('../../fixtures/vendors/', import.meta.url);

/** A recorded vendor response, parsed. */
export function vendorFixture(vendor: 'eodhd' | 'twelvedata', name: string): unknown {
  return JSON.parse(vendorText(vendor, name));
}

/** A recorded vendor response as the text the vendor sent (EODHD's plain-text errors). */
export function vendorText(vendor: 'eodhd' | 'twelvedata', name: string): string {
  return readFileSync(fixturePath(vendor, name), 'utf8');
}

const TWELVE_DATA_UNKNOWN_SYMBOL = {
  code: 404,
  message: '**symbol** or **figi** parameter is missing or invalid. Please provide a valid symbol according to API documentation: https://twelvedata.com/docs#reference-data',
  status: 'error',
};

/** `recorded/<file>` is a real recorded response from the vendor samples beside the repo; anything else a synthesized fixture. */
function fixturePath(vendor: 'eodhd' | 'twelvedata', name: string): string {
  return name.startsWith('recorded/') ? vendorSamplePath(vendor, name.slice('recorded/'.length)) : fileURLToPath(new URL(`${vendor}/${name}`, fixtureDir));
}

function fixtureExists(vendor: 'eodhd' | 'twelvedata', name: string): boolean {
  return existsSync(fixturePath(vendor, name));
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
}

export interface Reply {
  readonly status?: number;
  /** Sent as JSON unless a string. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering (timeouts). */
  readonly delayMs?: number;
}

/** Answers a request, or returns undefined to fall through to the recorded fixtures. */
export type Route = (request: RecordedRequest, index: number) => Reply | undefined;

/**
 * The vendors as recorded: EODHD `/api/{eod,div,splits}/{SYMBOL}` from `eodhd/{endpoint}-{SYMBOL}.json`
 * (EODHD's recorded 404 "Ticker Not Found" for others), Twelve Data `/td/time_series?symbol=EUR/USD` from
 * `twelvedata/time_series-EUR_USD.json` (its recorded 404 "**symbol** or **figi** ... invalid" for others).
 */
export function recordedVendors(request: RecordedRequest): Reply {
  const eodhd = /^\/api\/(eod|div|splits)\/([^/]+)$/.exec(request.path);
  if (eodhd) {
    const name = `${eodhd[1]}-${decodeURIComponent(eodhd[2])}.json`;
    return fixtureExists('eodhd', name)
      ? { body: vendorFixture('eodhd', name) }
      : { status: 404, body: vendorSamplesAvailable ? vendorText('eodhd', 'recorded/error-404-ticker-not-found.txt') : 'Ticker Not Found', headers: { 'content-type': 'text/html; charset=UTF-8' } };
  }
  if (request.path === '/td/time_series') {
    const name = `time_series-${(request.query.symbol ?? '').replace('/', '_')}.json`;
    if (fixtureExists('twelvedata', name)) return { body: vendorFixture('twelvedata', name) };
    // Without the recorded samples, the same body as they have (the API's documented answer).
    return { status: 404, body: vendorSamplesAvailable ? vendorFixture('twelvedata', 'recorded/error-404-symbol-or-figi.json') : TWELVE_DATA_UNKNOWN_SYMBOL };
  }
  return { status: 404, body: { message: 'no such endpoint' } };
}

export interface ReplayServer {
  /** http://127.0.0.1:port */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answers before the recorded fixtures; reset with `route(undefined)`. */
  route(route: Route | undefined): void;
  close(): Promise<void>;
}

export async function startReplayServer(): Promise<ReplayServer> {
  const requests: RecordedRequest[] = [];
  let override: Route | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) };
    const index = requests.push(request) - 1;
    const reply = override?.(request, index) ?? recordedVendors(request);
    const send = () => {
      if (res.destroyed) return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, {
        'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
        ...reply.headers,
      });
      res.end(text);
    };
    if (reply.delayMs) setTimeout(send, reply.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    route: (route) => {
      override = route;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One replay server for a test file: started before its tests, closed after, with the
 * recorded requests and any override cleared before each test. Read `.current` inside tests.
 */
export function useReplayServer(): { readonly current: ReplayServer } {
  const holder: { current: ReplayServer } = { current: undefined as unknown as ReplayServer };
  beforeAll(async () => {
    holder.current = await startReplayServer();
  });
  afterAll(() => holder.current.close());
  beforeEach(() => {
    holder.current.requests.length = 0;
    holder.current.route(undefined);
  });
  return holder;
}
