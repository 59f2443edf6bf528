// HTTP against the Hugging Face hub URL layout (or a mirror of it):
//   GET  {endpoint}/api/models/{id}/revision/{rev}   → { sha, siblings: [{ rfilename }] }
//   HEAD {endpoint}/{id}/resolve/{rev}/{file}        → 200 (regular git file, ETag = git blob sha1)
//                                                      or 302 to a CDN (LFS file, X-Linked-Size / X-Linked-Etag = sha256)
// Redirects are followed here, never by fetch: HF_TOKEN goes only to the endpoint's exact origin (scheme, host,
// port), and once a chain of redirects has left that origin it is not sent again, not even back at the origin.
import { UsageError } from '../errors.js';
import { parseJson } from '../io/json.js';
import { HubError, HubUnreachableError, networkReason, type OfflineAdvice } from './errors.js';

export interface HubClientOptions {
  id: string;
  revision: string;
  endpoint: string;
  /** Where `endpoint` came from, for messages: `HF_ENDPOINT` when read from the environment. */
  endpointSource?: 'HF_ENDPOINT' | 'option';
  token?: string;
  /** Limit for the API call and HEAD requests, headers and body (ms). */
  timeoutMs?: number;
  /** What an "unreachable" message suggests. */
  advice?: Omit<OfflineAdvice, 'endpoint' | 'reason' | 'id' | 'endpointFromEnv'>;
}

/** What a HEAD on `resolve/` says about one file. */
export interface FileMeta {
  file: string;
  url: string;
  /** Whether HF_TOKEN may go with requests to `url` (the HEAD never left the endpoint's origin to find it). */
  auth: boolean;
  /** Bytes, from X-Linked-Size (LFS) or Content-Length. */
  size?: number;
  /** sha256 of the content (LFS files: X-Linked-Etag). */
  sha256?: string;
  /** git blob sha1 (regular files: ETag). */
  gitSha1?: string;
}

export interface HubRequestInit {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Aborts the request (headers and body); default: a timeout of the client's timeoutMs. */
  signal?: AbortSignal;
  /** Whether the chain may carry HF_TOKEN at all (false once an earlier step left the origin). */
  auth?: boolean;
  /** Stop following at a redirect for which this is true (the LFS redirect, whose headers HEAD needs). */
  stopAt?: (res: Response) => boolean;
}

const USER_AGENT = 'sbert-tfjs/0.1.0';
const MAX_REDIRECTS = 10;

/** The largest API file listing we read (the hub's is a few KB even for big repositories). */
export const MAX_LISTING_BYTES = 16 * 2 ** 20;
/** The most JSON entries (keys, array elements) in a listing: a million files' worth. */
const MAX_LISTING_ENTRIES = 2 ** 22;

function cleanEtag(v: string | null): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

function intHeader(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A URL for messages: any user name and password replaced by `***`. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return u.toString();
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//***@');
  }
}

/** The endpoint as an http(s) URL without credentials, query or fragment; else a UsageError saying why. */
export function parseEndpoint(endpoint: string, source: 'HF_ENDPOINT' | 'option' = 'option'): URL {
  const name = source === 'HF_ENDPOINT' ? 'HF_ENDPOINT' : 'the hub endpoint';
  const shown = `${name}=${JSON.stringify(redactUrl(endpoint))}`;
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new UsageError(`${shown} is not a URL (expected e.g. https://huggingface.co or https://hf-mirror.com)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`${shown} is not an http:// or https:// URL`);
  if (u.username || u.password)
    throw new UsageError(`${shown} carries a user name or password; give the token in HF_TOKEN instead`);
  if (u.search || u.hash) throw new UsageError(`${shown} has a query or fragment; give the hub's base URL`);
  return u;
}

/**
 * The token as it will be sent, or undefined when empty: surrounding whitespace dropped (a file's line break),
 * and any character an HTTP header cannot carry refused here, by position. Sent as is, fetch would throw an
 * error that quotes the whole header, token included.
 */
export function checkToken(token: string | undefined): string | undefined {
  const t = token?.trim();
  if (!t) return undefined;
  const bad = t.search(/[^\x20-\x7e]/);
  if (bad >= 0) {
    const c = t.charCodeAt(bad);
    const what =
      c === 0x0a || c === 0x0d
        ? 'a line break'
        : c < 0x20 || c === 0x7f
          ? 'a control character'
          : 'a non-ASCII character';
    throw new UsageError(
      `HF_TOKEN holds ${what} at position ${bad + 1}, which an HTTP header cannot carry; set it to the token alone (it is not printed)`,
    );
  }
  return t;
}

export class HubClient {
  readonly id: string;
  readonly revision: string;
  /** The endpoint, normalised, without a trailing slash. */
  readonly endpoint: string;
  /** scheme://host:port of the endpoint: the only origin that ever receives the token. */
  readonly origin: string;
  readonly timeoutMs: number;
  readonly hasToken: boolean;
  readonly #token?: string;
  readonly #advice: Omit<OfflineAdvice, 'reason'>;

  constructor(o: HubClientOptions) {
    const url = parseEndpoint(o.endpoint, o.endpointSource);
    this.id = o.id;
    this.revision = o.revision;
    this.endpoint = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
    this.origin = url.origin;
    this.#token = checkToken(o.token);
    this.hasToken = this.#token !== undefined;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.#advice = {
      ...o.advice,
      endpoint: this.endpoint,
      id: o.id,
      endpointFromEnv: o.endpointSource === 'HF_ENDPOINT',
    };
  }

  fileUrl(file: string, revision = this.revision): string {
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.id}/resolve/${encodeURIComponent(revision)}/${path}`;
  }

  unreachable(reason: string): HubUnreachableError {
    return new HubUnreachableError({ ...this.#advice, reason });
  }

  /**
   * One request, following redirects (relative or not) up to MAX_REDIRECTS. The token goes only to the
   * endpoint's origin, and not after the chain has left it. Returns the last response and its URL.
   * Network failures become HubUnreachableError; a redirect to a non-http(s) URL or one with credentials is
   * refused.
   */
  async request(url: string, init: HubRequestInit = {}): Promise<{ res: Response; url: string; auth: boolean }> {
    const signal = init.signal ?? AbortSignal.timeout(this.timeoutMs);
    let current = new URL(url);
    let auth = init.auth ?? true;
    for (let hop = 0; ; hop++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw new HubError(
          `${this.endpoint} redirected to ${redactUrl(current)}, which is not an http(s) URL; refused`,
        );
      }
      if (current.username || current.password) {
        throw new HubError(
          `${this.endpoint} redirected to a URL with a user name or password in it (${redactUrl(current)}); refused`,
        );
      }
      auth &&= current.origin === this.origin;
      const headers = new Headers(init.headers);
      headers.set('user-agent', USER_AGENT);
      // Identity encoding, so that Content-Length is the file's size.
      headers.set('accept-encoding', 'identity');
      if (auth && this.#token) headers.set('authorization', `Bearer ${this.#token}`);
      let res: Response;
      try {
        res = await fetch(current, { method: init.method ?? 'GET', headers, signal, redirect: 'manual' });
      } catch (err) {
        throw this.unreachable(networkReason(err));
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null || init.stopAt?.(res))
        return { res, url: current.toString(), auth };
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS)
        throw new HubError(`${this.endpoint}: more than ${MAX_REDIRECTS} redirects from ${url}`);
      try {
        current = new URL(location, current);
      } catch {
        throw new HubError(
          `${this.endpoint} redirected to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`,
        );
      }
    }
  }

  /** Files at the revision and the commit it points to, or null when the API does not answer usefully (mirrors, auth). */
  async listFiles(): Promise<{ files: string[]; commit?: string } | null> {
    const url = `${this.endpoint}/api/models/${this.id}/revision/${encodeURIComponent(this.revision)}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    const { res } = await this.request(url, { signal });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const text = await this.readCapped(res, MAX_LISTING_BYTES, `the file listing of model ${this.id}`);
    let info: unknown;
    try {
      info = parseJson(text, 'listing', { maxEntries: MAX_LISTING_ENTRIES });
    } catch {
      return null;
    }
    const siblings =
      typeof info === 'object' && info !== null && Object.hasOwn(info, 'siblings')
        ? (info as { siblings: unknown }).siblings
        : undefined;
    if (!Array.isArray(siblings)) return null;
    const files: string[] = [];
    for (const s of siblings) {
      const name =
        typeof s === 'object' && s !== null && Object.hasOwn(s, 'rfilename')
          ? (s as { rfilename: unknown }).rfilename
          : undefined;
      if (typeof name === 'string') files.push(name);
    }
    const sha = Object.hasOwn(info as object, 'sha') ? (info as { sha: unknown }).sha : undefined;
    const commit = typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
    return { files, commit };
  }

  /** A response body as text, refused (and the connection dropped) past `max` bytes. */
  async readCapped(res: Response, max: number, what: string): Promise<string> {
    const tooBig = () => new HubError(`${this.endpoint} sent more than ${max} bytes for ${what}; refused`);
    const announced = intHeader(res.headers.get('content-length'));
    if (announced !== undefined && announced > max) {
      await res.body?.cancel();
      throw tooBig();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > max) {
            await reader.cancel();
            throw tooBig();
          }
          chunks.push(value);
        }
      } catch (err) {
        if (err instanceof HubError) throw err;
        const reason = networkReason(err);
        if (reason === 'timed out')
          throw new HubError(
            `${this.endpoint} did not finish sending ${what} within ${this.timeoutMs / 1000} s (SBERT_HUB_TIMEOUT)`,
          );
        throw this.unreachable(reason);
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** HEAD one file: its metadata, or null when the hub says it does not exist. */
  async head(file: string, revision = this.revision): Promise<FileMeta | null> {
    const isLfsRedirect = (r: Response) =>
      intHeader(r.headers.get('x-linked-size')) !== undefined ||
      cleanEtag(r.headers.get('x-linked-etag')) !== undefined;
    // Follow redirects (renamed repos) but stop at the LFS redirect, whose headers we need.
    const { res, url, auth } = await this.request(this.fileUrl(file, revision), {
      method: 'HEAD',
      stopAt: isLfsRedirect,
    });
    await res.body?.cancel();
    const linkedSize = intHeader(res.headers.get('x-linked-size'));
    const linkedEtag = cleanEtag(res.headers.get('x-linked-etag'));
    if (res.status === 404) {
      if (file === 'config.json' || res.headers.get('x-error-code') === 'RepoNotFound')
        throw this.statusError(res, file);
      return null;
    }
    if (res.status >= 400) throw this.statusError(res, file);
    if (res.status >= 300 && linkedSize === undefined && linkedEtag === undefined) {
      throw new HubError(`${file}: ${this.endpoint} answered HTTP ${res.status} without a Location`);
    }
    const isLfs = linkedSize !== undefined || linkedEtag !== undefined;
    const etag = isLfs ? linkedEtag : cleanEtag(res.headers.get('etag'));
    return {
      file,
      url,
      auth,
      size: linkedSize ?? (res.status < 300 ? intHeader(res.headers.get('content-length')) : undefined),
      sha256: isLfs && etag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
      gitSha1: !isLfs && etag && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined,
    };
  }

  /** A one-line error for a failed response about `file`. */
  statusError(res: Response, file: string): HubError {
    const code = res.headers.get('x-error-code') ?? '';
    const where = `model ${this.id} (revision ${this.revision})`;
    if (res.status === 401 || res.status === 403) {
      if (code === 'GatedRepo') {
        return new HubError(
          `${where} at ${this.endpoint} is gated: accept its terms on the hub and set HF_TOKEN to a token of that account`,
        );
      }
      if (this.hasToken) {
        return new HubError(
          `${where}: ${this.endpoint} rejected HF_TOKEN (HTTP ${res.status}); check that the token is valid and can read this model`,
        );
      }
      if (code === 'RepoNotFound') {
        return new HubError(`${where} not found at ${this.endpoint} (if it is private or gated, set HF_TOKEN)`);
      }
      return new HubError(
        `${where} at ${this.endpoint} needs authentication (HTTP ${res.status}): set HF_TOKEN to a token that can read it`,
      );
    }
    if (res.status === 404) {
      if (code === 'RevisionNotFound')
        return new HubError(`revision ${this.revision} of model ${this.id} not found at ${this.endpoint}`);
      if (code === 'EntryNotFound') return new HubError(`${where}: file ${file} not found at ${this.endpoint}`);
      if (file === 'config.json' || code === 'RepoNotFound')
        return new HubError(`${where} not found at ${this.endpoint}`);
      return new HubError(`${where}: file ${file} not found at ${this.endpoint}`);
    }
    return new HubError(`${where}: ${this.endpoint} answered HTTP ${res.status} ${res.statusText} for ${file}`);
  }
}
