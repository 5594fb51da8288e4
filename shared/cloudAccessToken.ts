import { httpRequest } from './httpRequest.js';
import { TransientError } from './job/errors.js';

/** An OAuth 2.0 access token for Google APIs, fetched once and reused until shortly before it expires. */
export interface AccessTokenSource {
  token(): Promise<string>;
  /** Forgets the cached token (a request was answered 401): the next `token()` fetches a new one. */
  invalidate(): void;
}

/** A token is refreshed this long before it expires, so none is sent in its last minutes. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** The metadata server's default host; `GCE_METADATA_HOST` overrides it, as for Google's own clients. */
const METADATA_HOST = 'metadata.google.internal';

const tokenAnswer = (value: unknown): { accessToken: string; expiresInS: number } => {
  const v = value as { access_token?: unknown; expires_in?: unknown };
  if (typeof v?.access_token !== 'string' || v.access_token === '' || typeof v.expires_in !== 'number') throw new Error('the answer carries no access_token and expires_in');
  return { accessToken: v.access_token, expiresInS: v.expires_in };
};

/**
 * The access token of the service account the code runs as: from the metadata server where
 * there is one (Cloud Run and Cloud Functions: one local HTTP request, no library), else from
 * google-auth-library's application default credentials (a laptop with `gcloud auth
 * application-default login`), loaded only then: it costs ~40 ms of module evaluation, which a
 * deployed function's first event would otherwise wait for.
 */
export function cloudAccessToken(scope: string, env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): AccessTokenSource {
  // K_SERVICE is set by Cloud Run, and so in every Cloud Functions 2nd gen instance.
  const onGoogleCloud = Boolean(env.K_SERVICE || env.GCE_METADATA_HOST);
  return onGoogleCloud ? new CachedToken(() => metadataServerToken(env.GCE_METADATA_HOST || METADATA_HOST), now) : new CachedToken(applicationDefaultToken(scope), now);
}

/** One token shared by concurrent callers, fetched again when it nears expiry or was refused. */
export class CachedToken implements AccessTokenSource {
  private current: Promise<{ accessToken: string; expiresAt: number }> | undefined;

  constructor(
    private readonly fetchToken: () => Promise<{ accessToken: string; expiresInS: number }>,
    private readonly now: () => number = Date.now,
  ) {}

  async token(): Promise<string> {
    const held = this.current;
    if (held) {
      const token = await held.catch(() => undefined);
      if (token && token.expiresAt - REFRESH_MARGIN_MS > this.now()) return token.accessToken;
      if (this.current === held) this.current = undefined;
    }
    const start = this.now();
    this.current ??= this.fetchToken().then(
      ({ accessToken, expiresInS }) => ({ accessToken, expiresAt: start + expiresInS * 1000 }),
      (error: unknown) => {
        this.current = undefined;
        throw error;
      },
    );
    return (await this.current).accessToken;
  }

  invalidate(): void {
    this.current = undefined;
  }
}

/** The default service account's token from the metadata server. A failure is transient (the server is local and restarts). */
async function metadataServerToken(host: string): Promise<{ accessToken: string; expiresInS: number }> {
  const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/token`;
  try {
    const response = await httpRequest('GET', url, { headers: { 'Metadata-Flavor': 'Google' }, timeoutMs: 10_000 });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    return tokenAnswer(JSON.parse(response.body.toString('utf8')));
  } catch (error) {
    // The answer's text is never quoted: it may carry the token.
    throw new TransientError(`Getting an access token from the metadata server (${host}) failed: ${(error as Error).message}`);
  }
}

/** google-auth-library's application default credentials, the library imported on first use. */
function applicationDefaultToken(scope: string): () => Promise<{ accessToken: string; expiresInS: number }> {
  let auth: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | undefined;
  return async () => {
    auth ??= import('google-auth-library').then(({ GoogleAuth }) => new GoogleAuth({ scopes: [scope] }));
    const token = await (await auth).getAccessToken();
    if (!token) throw new TransientError('Getting an access token from the application default credentials failed: none was returned.');
    // The library refreshes its own token before expiry; asking it again after a few minutes is cheap.
    return { accessToken: token, expiresInS: REFRESH_MARGIN_MS / 1000 + 300 };
  };
}
