import http from 'node:http';

/** An HTTP answer, its body read whole. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * One HTTP(S) request with `node:http`/`node:https` (kept-alive sockets, Node's default agents)
 * rather than `fetch`: the functions-framework has loaded `node:http` already, while `fetch`'s
 * first call loads undici (~40 ms of CPU), which a cold function's first event would wait for.
 * Network failures and the time limit reject with the socket's error (no HTTP status).
 */
export async function httpRequest(method: string, url: string, options: { headers?: Record<string, string>; body?: Buffer | readonly Uint8Array[]; timeoutMs: number }): Promise<HttpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? await import('node:https') : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    // A body of chunks is written chunk by chunk (no joined copy), its length declared up front.
    const chunks: readonly Uint8Array[] = options.body === undefined ? [] : Buffer.isBuffer(options.body) ? [options.body] : options.body;
    const length = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    const headers = { ...options.headers, ...(options.body ? { 'content-length': String(length) } : {}) };
    const request = transport.request(target, { method, headers, timeout: options.timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`${method} ${target.host} timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}
