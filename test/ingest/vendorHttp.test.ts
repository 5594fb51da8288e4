import { describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/job/errors.js';
import { describeFetchFailure, VendorHttp, type ReplyVerdict, type VendorReply } from '../../shared/ingest/vendorHttp.js';
import { startReplayServer, useReplayServer } from './vendorReplayServer.js';

const KEY = 'vh-secret-key-5b1d0c';

const replay = useReplayServer();

/** Accepts 200 with JSON, retries 429 and 5xx, as the clients do. */
const judge = (reply: VendorReply): ReplyVerdict<unknown> =>
  reply.status === 200 ? { ok: reply.body } : reply.status === 429 || reply.status >= 500 ? { retry: `HTTP ${reply.status}` } : { fail: new Error(`HTTP ${reply.status}`) };

function client(overrides: { attempts?: number; timeoutMs?: number; random?: () => number; retryAfterCeiling?: number } = {}) {
  const delays: number[] = [];
  const http = new VendorHttp({
    vendor: 'TestVendor',
    retry: { attempts: overrides.attempts ?? 4, baseDelayMs: 100, maxDelayMs: overrides.retryAfterCeiling ?? 1_000, timeoutMs: overrides.timeoutMs ?? 2_000 },
    // Delays are recorded, not waited: the policy is asserted without slowing the test.
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: overrides.random ?? (() => 0.5),
  });
  return { http, delays };
}

const urlWithKey = () => new URL(`${replay.current.url}/x?api_token=${KEY}`);

describe('VendorHttp', () => {
  it('retries a 429 and returns the answer that follows', async () => {
    replay.current.route((_req, i) => (i === 0 ? { status: 429, body: { message: 'slow down' } } : { body: [1, 2, 3] }));
    const { http, delays } = client();
    await expect(http.get(urlWithKey(), 'rows', judge)).resolves.toEqual([1, 2, 3]);
    expect(replay.current.requests).toHaveLength(2);
    expect(delays).toHaveLength(1);
  });

  it('backs off exponentially with equal jitter: base * 2^(n-1), half of it random', async () => {
    replay.current.route(() => ({ status: 503, body: 'unavailable' }));
    const low = client({ random: () => 0 });
    await expect(low.http.get(urlWithKey(), 'rows', judge)).rejects.toBeInstanceOf(TransientError);
    expect(low.delays).toEqual([50, 100, 200]);
    const high = client({ random: () => 1 });
    await expect(high.http.get(urlWithKey(), 'rows', judge)).rejects.toBeInstanceOf(TransientError);
    expect(high.delays).toEqual([100, 200, 400]);
  });

  it('waits at least the Retry-After the vendor asks for, up to the ceiling', async () => {
    replay.current.route((_req, i) => (i === 0 ? { status: 429, body: '', headers: { 'retry-after': '0.7' } } : i === 1 ? { status: 429, body: '', headers: { 'retry-after': '30' } } : { body: [] }));
    const { http, delays } = client();
    await http.get(urlWithKey(), 'rows', judge);
    expect(delays).toEqual([700, 1_000]);
  });

  it('gives up after the last attempt with a TransientError that names the vendor and purpose but not the URL or key', async () => {
    replay.current.route(() => ({ status: 502, body: `<html>bad gateway for /x?api_token=${KEY}</html>` }));
    const { http } = client();
    const error = await http.get(urlWithKey(), 'daily bars of AAPL.US', judge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    const message = (error as Error).message;
    expect(message).toContain('TestVendor daily bars of AAPL.US still failing after 4 attempts (last: HTTP 502)');
    expect(message).not.toContain(KEY);
    expect(message).not.toContain(replay.current.url);
    expect(replay.current.requests).toHaveLength(4);
  });

  it('retries a timeout (AbortSignal.timeout) and reports it in words', async () => {
    replay.current.route((_req, i) => (i < 2 ? { body: [], delayMs: 500 } : { body: ['late but fine'] }));
    const { http } = client({ timeoutMs: 100 });
    await expect(http.get(urlWithKey(), 'rows', judge)).resolves.toEqual(['late but fine']);
    expect(replay.current.requests).toHaveLength(3);

    replay.current.requests.length = 0;
    replay.current.route(() => ({ body: [], delayMs: 500 }));
    const error = await client({ timeoutMs: 100, attempts: 2 }).http.get(urlWithKey(), 'rows', judge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain('no answer within 100 ms');
  });

  it('retries a refused connection and reports it by error code, without the URL', async () => {
    const closed = await startReplayServer();
    const url = new URL(`${closed.url}/x?api_token=${KEY}`);
    await closed.close();
    const error = await client({ attempts: 2 }).http.get(url, 'rows', judge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/network error \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect((error as Error).message).not.toContain(KEY);
  });

  it('names the cause of a connection the vendor drops, and of a failure with no code', async () => {
    const dropped = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(describeFetchFailure(dropped, 1000)).toBe('network error (UND_ERR_SOCKET: other side closed)');
    const uncoded = Object.assign(new TypeError('fetch failed'), { cause: new Error(`bad port in https://vendor.example/x?api_token=${KEY}`) });
    expect(describeFetchFailure(uncoded, 1000)).toBe('network error (bad port in <url>)');
    const several = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })]), { message: '' }) });
    expect(describeFetchFailure(several, 1000)).toBe('network error (ECONNREFUSED)');
  });

  it('throws a final verdict at once, without retrying', async () => {
    replay.current.route(() => ({ status: 404, body: 'Ticker Not Found.' }));
    const { http, delays } = client();
    await expect(http.get(urlWithKey(), 'rows', judge)).rejects.toThrow('HTTP 404');
    expect(replay.current.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('hands a plain-text body to the judge as text and JSON as a value', async () => {
    const seen: unknown[] = [];
    replay.current.route((_req, i) => (i === 0 ? { status: 500, body: 'Ticker Not Found.' } : { body: { a: 1 } }));
    await client().http.get(urlWithKey(), 'rows', (reply) => {
      seen.push(reply.body);
      return judge(reply);
    });
    expect(seen).toEqual(['Ticker Not Found.', { a: 1 }]);
  });
});
