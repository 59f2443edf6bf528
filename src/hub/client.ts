// HTTP against the Hugging Face hub URL layout (or a mirror of it):
//   GET  {endpoint}/api/models/{id}/revision/{rev}   → { sha, siblings: [{ rfilename }] }
//   HEAD {endpoint}/{id}/resolve/{rev}/{file}        → 200 (regular git file, ETag = git blob sha1)
//                                                      or 302 to a CDN (LFS file, X-Linked-Size / X-Linked-Etag = sha256)
import { HubError, HubUnreachableError, networkReason } from './errors.js';

export interface HubClientOptions {
  id: string;
  revision: string;
  endpoint: string;
  token?: string;
  /** Limit for the API call and HEAD requests (ms). */
  timeoutMs?: number;
}

/** What a HEAD on `resolve/` says about one file. */
export interface FileMeta {
  file: string;
  url: string;
  /** Bytes, from X-Linked-Size (LFS) or Content-Length. */
  size?: number;
  /** sha256 of the content (LFS files: X-Linked-Etag). */
  sha256?: string;
  /** git blob sha1 (regular files: ETag). */
  gitSha1?: string;
}

const USER_AGENT = 'sbert-tfjs/0.1.0';

function cleanEtag(v: string | null): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

function intHeader(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

export class HubClient {
  readonly id: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly token?: string;
  readonly timeoutMs: number;

  constructor(o: HubClientOptions) {
    this.id = o.id;
    this.revision = o.revision;
    this.endpoint = o.endpoint.replace(/\/+$/, '');
    this.token = o.token || undefined;
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  fileUrl(file: string, revision = this.revision): string {
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.id}/resolve/${encodeURIComponent(revision)}/${path}`;
  }

  /** fetch() with auth and identity encoding (so Content-Length is the file size); network failures become HubUnreachableError. */
  async fetch(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('user-agent', USER_AGENT);
    headers.set('accept-encoding', 'identity');
    // Only to the hub itself: the CDN gets presigned URLs, and fetch drops the header on cross-origin redirects.
    if (this.token && url.startsWith(this.endpoint)) headers.set('authorization', `Bearer ${this.token}`);
    const signal = init.signal ?? AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    try {
      return await fetch(url, { ...init, headers, signal });
    } catch (err) {
      throw new HubUnreachableError(this.endpoint, networkReason(err), this.id);
    }
  }

  /** Files at the revision and the commit it points to, or null when the API does not answer usefully (mirrors, auth). */
  async listFiles(): Promise<{ files: string[]; commit?: string } | null> {
    const url = `${this.endpoint}/api/models/${this.id}/revision/${encodeURIComponent(this.revision)}`;
    const res = await this.fetch(url);
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    try {
      const info = (await res.json()) as { sha?: unknown; siblings?: { rfilename?: unknown }[] };
      if (!Array.isArray(info.siblings)) return null;
      const files = info.siblings.map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
      const commit = typeof info.sha === 'string' && /^[0-9a-f]{40}$/.test(info.sha) ? info.sha : undefined;
      return { files, commit };
    } catch {
      return null;
    }
  }

  /** HEAD one file: its metadata, or null when the hub says it does not exist. */
  async head(file: string, revision = this.revision): Promise<FileMeta | null> {
    const url = this.fileUrl(file, revision);
    let current = url;
    // Follow relative redirects (renamed repos) ourselves; stop at the LFS redirect, whose headers we need.
    for (let hop = 0; hop < 5; hop++) {
      const res = await this.fetch(current, { method: 'HEAD', redirect: 'manual' });
      const linkedSize = intHeader(res.headers.get('x-linked-size'));
      const linkedEtag = cleanEtag(res.headers.get('x-linked-etag'));
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && linkedSize === undefined && linkedEtag === undefined) {
        current = new URL(location, current).toString();
        continue;
      }
      if (res.status === 404) {
        if (file === 'config.json' || res.headers.get('x-error-code') === 'RepoNotFound') throw this.statusError(res, file);
        return null;
      }
      if (res.status >= 400) throw this.statusError(res, file);
      const isLfs = linkedSize !== undefined || linkedEtag !== undefined;
      const etag = isLfs ? linkedEtag : cleanEtag(res.headers.get('etag'));
      return {
        file,
        url: current,
        size: linkedSize ?? (res.status < 300 ? intHeader(res.headers.get('content-length')) : undefined),
        sha256: isLfs && etag && /^[0-9a-f]{64}$/.test(etag) ? etag : undefined,
        gitSha1: !isLfs && etag && /^[0-9a-f]{40}$/.test(etag) ? etag : undefined,
      };
    }
    throw new HubError(`${file}: too many redirects from ${this.endpoint}`);
  }

  /** A one-line error for a failed response about `file`. */
  statusError(res: Response, file: string): HubError {
    const code = res.headers.get('x-error-code') ?? '';
    const where = `model ${this.id} (revision ${this.revision})`;
    if (res.status === 401 || res.status === 403) {
      if (code === 'GatedRepo') {
        return new HubError(`${where} at ${this.endpoint} is gated: accept its terms on the hub and set HF_TOKEN to a token of that account`);
      }
      if (this.token) {
        return new HubError(`${where}: ${this.endpoint} rejected HF_TOKEN (HTTP ${res.status}); check that the token is valid and can read this model`);
      }
      if (code === 'RepoNotFound') {
        return new HubError(`${where} not found at ${this.endpoint} (if it is private or gated, set HF_TOKEN)`);
      }
      return new HubError(`${where} at ${this.endpoint} needs authentication (HTTP ${res.status}): set HF_TOKEN to a token that can read it`);
    }
    if (res.status === 404) {
      if (code === 'RevisionNotFound') return new HubError(`revision ${this.revision} of model ${this.id} not found at ${this.endpoint}`);
      if (code === 'EntryNotFound') return new HubError(`${where}: file ${file} not found at ${this.endpoint}`);
      if (file === 'config.json' || code === 'RepoNotFound') return new HubError(`${where} not found at ${this.endpoint}`);
      return new HubError(`${where}: file ${file} not found at ${this.endpoint}`);
    }
    return new HubError(`${where}: ${this.endpoint} answered HTTP ${res.status} ${res.statusText} for ${file}`);
  }
}
