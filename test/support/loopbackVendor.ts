import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the loopback vendor behaves: the latency, limits and caps of the real APIs. */
export interface LoopbackVendorOptions {
  /** Delay before every answer. Default 100 ms. */
  readonly latencyMs?: number;
  /** Requests accepted in any 60 s; past it, 429. Default: no limit. */
  readonly perMinute?: number;
  /** The rate limit's window; default 60 s (tests shorten it). */
  readonly windowMs?: number;
  /** Retry-After (seconds) sent with a 429; default none (EODHD sends none). */
  readonly retryAfterSeconds?: number;
  /** Twelve Data's cap on points per request. Default 5,000. */
  readonly maxPoints?: number;
  /** Tickers of the bulk endpoint's exchange (codes, without exchange). Default 50. */
  readonly exchangeSymbols?: number;
  /** Tickers listed on one day, if not all of them (the first this many codes). */
  readonly exchangeSymbolsOn?: (date: string) => number;
}

/** What the server saw. */
export interface LoopbackStats {
  requests: number;
  throttled: number;
  maxInFlight: number;
  /** Path and query of every request, in order. */
  readonly log: { path: string; query: Record<string, string> }[];
}

export interface LoopbackVendor {
  /** http://127.0.0.1:port; EODHD under /api, Twelve Data under /td. */
  readonly url: string;
  readonly stats: LoopbackStats;
  close(): Promise<void>;
}

/** Deterministic 32-bit hash of a string (FNV-1a). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Days since 1970-01-01 and whether the date is a weekday, cached per date. */
const calendar = new Map<string, { day: number; weekday: boolean }>();
function calendarDay(date: string): { day: number; weekday: boolean } {
  let c = calendar.get(date);
  if (!c) {
    const ms = Date.parse(`${date}T00:00:00Z`);
    const dow = new Date(ms).getUTCDay();
    calendar.set(date, (c = { day: Math.round(ms / 86_400_000), weekday: dow !== 0 && dow !== 6 }));
  }
  return c;
}

/** A well-mixed 32-bit value of (symbol seed, day): cheap enough for a vendor answering millions of bars. */
function mix(seed: number, day: number): number {
  let h = Math.imul(seed ^ Math.imul(day, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether the vendor has a bar for `symbol` on `date`: every weekday but about 1 in 97, so gaps exist and are countable. */
export function loopbackHasBar(symbol: string, date: string): boolean {
  return barHash(hash(symbol), date) !== null;
}

function barHash(seed: number, date: string): number | null {
  const c = calendarDay(date);
  if (!c.weekday) return null;
  const h = mix(seed, c.day);
  return h % 97 === 0 ? null : h;
}

/** The loopback bar of `symbol` on `date` (prices in cents-exact decimals). */
export function loopbackBar(symbol: string, date: string) {
  return barFrom(barHash(hash(symbol), date) ?? 0, date);
}

function barFrom(h: number, date: string) {
  const close = 20 + (h % 50_000) / 100;
  return { date, open: close - 0.5, high: close + 1, low: close - 1, close, adjusted_close: Math.round(close * 0.9 * 1e4) / 1e4, volume: 1000 + (h % 100_000) };
}

const dayLists = new Map<string, string[]>();

/** Every date from `from` to `to`, cached: a 20-year window is asked for once per symbol. */
function days(from: string, to: string): readonly string[] {
  const key = `${from}|${to}`;
  let list = dayLists.get(key);
  if (!list) {
    list = [];
    const d = new Date(`${from}T00:00:00Z`);
    for (let iso = from; iso <= to; d.setUTCDate(d.getUTCDate() + 1), iso = d.toISOString().slice(0, 10)) list.push(iso);
    if (dayLists.size > 1000) dayLists.clear();
    dayLists.set(key, list);
  }
  return list;
}

const dayBefore = (iso: string) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
};

/**
 * A local server answering in EODHD's and Twelve Data's formats the way the real APIs do:
 * a latency on every request, 429 past a per-minute limit (sliding window), Twelve Data's
 * 5,000-point cap (newest first), EODHD's bulk endpoint. Its data are deterministic
 * (`loopbackBar`, `loopbackHasBar`), so tests know every row the vendor has.
 */
export async function startLoopbackVendor(options: LoopbackVendorOptions = {}): Promise<LoopbackVendor> {
  const latency = options.latencyMs ?? 100;
  const maxPoints = options.maxPoints ?? 5000;
  const exchangeCodes = Array.from({ length: options.exchangeSymbols ?? 50 }, (_, i) => `T${String(i).padStart(4, '0')}`);
  const stats: LoopbackStats = { requests: 0, throttled: 0, maxInFlight: 0, log: [] };
  const starts: number[] = [];
  let inFlight = 0;

  const answer = (url: URL): { status: number; body: string; headers?: Record<string, string> } => {
    const q = Object.fromEntries(url.searchParams);
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/eod\/([^/]+)$/.exec(url.pathname))) {
      // Keyed by the ticker without its exchange, as the warehouse stores US symbols.
      const symbol = decodeURIComponent(m[1]!).replace(/\.US$/, '');
      // Written out directly: the benchmark's vendor must not be its bottleneck.
      const parts: string[] = [];
      const seed = hash(symbol);
      for (const d of days(q.from ?? '2000-01-01', q.to ?? '2030-12-31')) {
        const h = barHash(seed, d);
        if (h === null) continue;
        const b = barFrom(h, d);
        parts.push(`{"date":"${d}","open":${b.open},"high":${b.high},"low":${b.low},"close":${b.close},"adjusted_close":${b.adjusted_close},"volume":${b.volume}}`);
      }
      return { status: 200, body: `[${parts.join(',')}]` };
    }
    if ((m = /^\/api\/div\/([^/]+)$/.exec(url.pathname))) {
      const symbol = decodeURIComponent(m[1]!).replace(/\.US$/, '');
      const rows = [];
      // One dividend a quarter, on the 15th of Feb/May/Aug/Nov when it is a weekday.
      for (const d of days(q.from ?? '2000-01-01', q.to ?? '2030-12-31')) {
        if (/-(02|05|08|11)-15$/.test(d) && loopbackHasBar(symbol, d)) {
          rows.push({ date: d, declarationDate: null, recordDate: null, paymentDate: null, period: 'Quarterly', value: 0.2, unadjustedValue: 0.2, currency: 'USD' });
        }
      }
      return { status: 200, body: JSON.stringify(rows) };
    }
    if (/^\/api\/splits\/[^/]+$/.test(url.pathname)) return { status: 200, body: '[]' };
    if ((m = /^\/api\/eod-bulk-last-day\/([^/]+)$/.exec(url.pathname))) {
      const date = q.date ?? '';
      const listed = options.exchangeSymbolsOn ? exchangeCodes.slice(0, options.exchangeSymbolsOn(date)) : exchangeCodes;
      const rows = listed.filter((code) => loopbackHasBar(code, date)).map((code) => ({ code, exchange_short_name: m![1], ...loopbackBar(code, date) }));
      return { status: 200, body: JSON.stringify(rows) };
    }
    if (url.pathname === '/td/time_series') {
      const symbol = q.symbol ?? '';
      // A bare end_date leaves that day out, as Twelve Data has been seen to do.
      const end = dayBefore(q.end_date ?? '2030-12-31');
      const values = [];
      for (const d of days(q.start_date ?? '2000-01-01', end)) if (loopbackHasBar(symbol, d)) values.push(d);
      values.reverse();
      const capped = values.slice(0, Math.min(maxPoints, Number(q.outputsize ?? 30)));
      if (capped.length === 0) return { status: 400, body: JSON.stringify({ code: 400, message: 'No data is available on the specified dates. Try setting different start/end dates.', status: 'error' }) };
      const bars = capped.map((d) => {
        const b = loopbackBar(symbol, d);
        return { datetime: d, open: b.open.toFixed(5), high: b.high.toFixed(5), low: b.low.toFixed(5), close: b.close.toFixed(5), volume: String(b.volume) };
      });
      return { status: 200, body: JSON.stringify({ meta: { symbol, interval: '1day' }, values: bars, status: 'ok' }) };
    }
    return { status: 404, body: 'Not Found' };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    stats.requests++;
    stats.log.push({ path: url.pathname, query: Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'api_token' && k !== 'apikey')) });
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    const now = Date.now();
    while (starts.length > 0 && starts[0]! <= now - (options.windowMs ?? 60_000)) starts.shift();
    const limited = options.perMinute !== undefined && starts.length >= options.perMinute;
    if (!limited) starts.push(now);
    const reply = limited
      ? { status: 429, body: 'Too Many Requests', headers: options.retryAfterSeconds !== undefined ? { 'retry-after': String(options.retryAfterSeconds) } : undefined }
      : answer(url);
    if (limited) stats.throttled++;
    setTimeout(() => {
      inFlight--;
      if (res.destroyed) return;
      res.writeHead(reply.status, { 'content-type': reply.body.startsWith('[') || reply.body.startsWith('{') ? 'application/json' : 'text/html; charset=UTF-8', ...reply.headers });
      res.end(reply.body);
    }, latency);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
