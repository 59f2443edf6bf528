// A local stand-in for the Hugging Face hub (random port on 127.0.0.1, or another loopback address), serving
// in-memory repositories in the hub's URL layout: the API listing, `resolve/<rev>/<file>` (ETag = git blob
// sha1, Range support), LFS files as a 302 to a "CDN" path (on this server or another one) with X-Linked-Size /
// X-Linked-Etag (sha256), plus faults, each at an exact byte so that no test depends on timing: connections
// that end early, stalls, drips, bodies longer than announced, corrupted bodies, endless listings, arbitrary
// redirects, a missing API (as on some mirrors), and repositories that need a token.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const COMMIT = 'c0ffee0000000000000000000000000000000001';

export interface FakeRepo {
  files: Record<string, Buffer>;
  /** Requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

/** A redirect the server answers instead of its normal response. */
export interface FakeRedirect {
  status?: number;
  location: string;
  headers?: Record<string, string>;
}

export interface FakeHubOptions {
  repos: Record<string, FakeRepo>;
  /** Loopback address to listen on (default 127.0.0.1; 127.0.0.2 is "another host" on Linux). */
  host?: string;
  /** Port to listen on (default: any free one). */
  port?: number;
  /** Which files are LFS (redirected to the CDN with X-Linked-* headers). */
  lfs?: (file: string) => boolean;
  /** Base URL of the CDN that LFS redirects point to (another FakeHub serving /cdn/); default this server. */
  cdn?: () => string;
  /** Consulted first for every request: a redirect to answer with, or undefined for the normal answer. */
  redirect?: (req: { method: string; path: string; n: number }) => FakeRedirect | undefined;
  /** The API answers 404 (a mirror that only serves resolve/). */
  noApi?: boolean;
  /**
   * End the response cleanly after exactly `bytes` body bytes on the first `times` GETs of `file` (no
   * Content-Length, `Connection: close`): the client receives every byte sent, then a short body.
   */
  drop?: { file: string; bytes: number; times: number };
  /** Send `bytes` body bytes, then reset the connection (how many arrive before the reset is up to timing). */
  reset?: { file: string; bytes: number; times: number };
  /** Send `bytes` body bytes of `file` on the first `times` GETs, then go silent with the connection open. */
  stall?: { file: string; bytes: number; times: number };
  /** Send `file`'s body one byte every `everyMs` (any request: HEAD answers, GETs drip). */
  drip?: { file: string; everyMs: number };
  /** Send `file`'s body, then keep sending zeros without end (HEAD announces the real size; the GET has no Content-Length). */
  endless?: string[];
  /** Announce this many bytes (X-Linked-Size / Content-Length on HEAD) for a file instead of its real size. */
  announce?: Record<string, number>;
  /** HEAD announces no size for a file (no X-Linked-Size, no Content-Length); its GET's Content-Length claims this many bytes. */
  lateAnnounce?: Record<string, number>;
  /** Omit every size header for these files (HEAD and GET: no X-Linked-Size, no Content-Length). */
  unsized?: string[];
  /** The API listing streams JSON without end (`endless`) or one byte every `drip` ms. */
  listing?: { endless?: boolean; dripMs?: number };
  /** Never answer HEAD requests (a black-holed host). */
  silentHead?: boolean;
  /** Serve these files with one byte flipped (headers still announce the real hash). */
  corrupt?: string[];
}

export interface LoggedRequest {
  method: string;
  path: string;
  host?: string;
  range?: string;
  authorization?: string;
}

export const readFixtureFile = (path: string): Buffer => readFileSync(path);
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  private server: Server;
  private drops = 0;
  private resets = 0;
  private stalls = 0;
  private timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(readonly opts: FakeHubOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.opts.port ?? 0, host, () => {
        this.server.off('error', fail);
        ok();
      });
    });
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  /** Requests that carried an Authorization header. */
  withToken(): LoggedRequest[] {
    return this.requests.filter((r) => r.authorization !== undefined);
  }

  /** GETs of file bodies (resolve/ for regular files, cdn/ for LFS ones). */
  bodyGets(): LoggedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && !r.path.startsWith('/api/'));
  }

  private isLfs(file: string): boolean {
    return (this.opts.lfs ?? ((f) => /\.(bin|safetensors)$/.test(f)))(file);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    this.requests.push({
      method: req.method ?? '',
      path,
      host: req.headers.host,
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const redirect = this.opts.redirect?.({ method: req.method ?? '', path, n: this.requests.length });
    if (redirect) {
      res.writeHead(redirect.status ?? 302, {
        ...redirect.headers,
        Location: redirect.location,
        'Content-Length': '0',
      });
      return void res.end();
    }
    if (req.method === 'HEAD' && this.opts.silentHead) return;
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(path);
    if (api) return this.api(req, res, api[1]!, api[2]!);
    if (resolve) return this.resolve(req, res, resolve[1]!, resolve[2]!, resolve[3]!);
    if (cdn) {
      const data = this.opts.repos[cdn[1]!]?.files[cdn[2]!];
      if (!data) return this.fail(res, 404, 'EntryNotFound');
      return this.body(req, res, cdn[2]!, data, {});
    }
    this.fail(res, 404);
  }

  private fail(res: ServerResponse, status: number, code?: string): void {
    if (code) res.setHeader('X-Error-Code', code);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: code ?? `HTTP ${status}` }));
  }

  /** Auth and repository lookup shared by the API and resolve/. */
  private repo(req: IncomingMessage, res: ServerResponse, id: string): FakeRepo | undefined {
    const repo = this.opts.repos[id];
    if (!repo) return void this.fail(res, 404, 'RepoNotFound');
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return void this.fail(res, 401);
    return repo;
  }

  /** Writes `chunk` every `ms` until the connection closes. */
  private every(res: ServerResponse, ms: number, chunk: () => Buffer | undefined): void {
    const t = setInterval(() => {
      const c = chunk();
      if (c === undefined || res.destroyed) {
        clearInterval(t);
        this.timers.delete(t);
        if (c === undefined && !res.destroyed) res.end();
        return;
      }
      res.write(c);
    }, ms);
    this.timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      this.timers.delete(t);
    });
  }

  private api(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    if (this.opts.noApi) return this.fail(res, 404);
    const repo = this.repo(req, res, id);
    if (!repo) return;
    if (rev !== 'main' && rev !== COMMIT) return this.fail(res, 404, 'RevisionNotFound');
    const json = Buffer.from(
      JSON.stringify({ id, sha: COMMIT, siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })) }),
    );
    const listing = this.opts.listing;
    if (listing?.endless) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"siblings":[');
      const item = Buffer.from('{"rfilename":"x"},'.repeat(4096));
      this.every(res, 1, () => item);
      return;
    }
    if (listing?.dripMs) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(json.length) });
      let i = 0;
      this.every(res, listing.dripMs, () => (i < json.length ? json.subarray(i, ++i) : undefined));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(json);
  }

  private resolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, file: string): void {
    const repo = this.repo(req, res, id);
    if (!repo) return;
    if (rev !== 'main' && rev !== COMMIT) return this.fail(res, 404, 'RevisionNotFound');
    const data = repo.files[file];
    if (!data) return this.fail(res, 404, 'EntryNotFound');
    const headers: Record<string, string> = { 'X-Repo-Commit': COMMIT };
    const unsized = this.opts.unsized?.includes(file) || this.opts.lateAnnounce?.[file] !== undefined;
    if (this.isLfs(file)) {
      const sha = sha256(data);
      res.writeHead(302, {
        ...headers,
        Location: `${this.opts.cdn?.() ?? this.url}/cdn/${id}/${file}`,
        ...(unsized ? {} : { 'X-Linked-Size': String(this.opts.announce?.[file] ?? data.length) }),
        'X-Linked-Etag': `"${sha}"`,
        ETag: `"${sha}"`,
        'Content-Length': '0',
      });
      return void res.end();
    }
    this.body(req, res, file, data, { ...headers, ETag: `"${gitSha1(data)}"` });
  }

  /** A file body with Content-Length and Range support, and the configured faults. */
  private body(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    original: Buffer,
    headers: Record<string, string>,
  ): void {
    let data = original;
    if (this.opts.corrupt?.includes(file)) {
      data = Buffer.from(original);
      data[data.length >> 1]! ^= 0xff;
    }
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        return void res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    const slice = data.subarray(start);
    // An endless file's HEAD still announces its size; its GET then runs on without a Content-Length.
    const late = this.opts.lateAnnounce?.[file];
    const sized =
      !this.opts.unsized?.includes(file) &&
      !(req.method === 'GET' && this.opts.endless?.includes(file)) &&
      !(req.method === 'HEAD' && late !== undefined);
    const announced =
      req.method === 'HEAD' && this.opts.announce?.[file] !== undefined
        ? this.opts.announce[file]!
        : req.method === 'GET' && late !== undefined
          ? late
          : slice.length;
    const drop = this.opts.drop;
    const dropping = req.method === 'GET' && drop?.file === file && this.drops < drop.times;
    if (dropping || !sized) {
      // A body delimited by the end of the connection: what is written is exactly what the client reads.
      res.useChunkedEncodingByDefault = false;
      res.shouldKeepAlive = false;
      res.writeHead(status, { ...headers, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(status, { ...headers, 'Content-Length': String(announced), 'Accept-Ranges': 'bytes' });
    }
    if (req.method === 'HEAD') return void res.end();
    if (dropping) {
      this.drops++;
      return void res.end(slice.subarray(0, drop!.bytes));
    }
    const reset = this.opts.reset;
    if (reset && reset.file === file && this.resets < reset.times) {
      this.resets++;
      res.write(slice.subarray(0, reset.bytes), () => res.socket?.destroy());
      return;
    }
    const stall = this.opts.stall;
    if (stall && stall.file === file && this.stalls < stall.times) {
      this.stalls++;
      res.write(slice.subarray(0, stall.bytes));
      return;
    }
    if (this.opts.drip?.file === file) {
      let i = 0;
      this.every(res, this.opts.drip.everyMs, () => (i < slice.length ? slice.subarray(i, ++i) : undefined));
      return;
    }
    if (this.opts.endless?.includes(file)) {
      res.write(slice);
      const zeros = Buffer.alloc(64 * 1024);
      this.every(res, 1, () => zeros);
      return;
    }
    res.end(slice);
  }
}

/** A port on 127.0.0.1 that nothing listens on (fetch refuses some low ports such as 1 outright). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/**
 * Two hubs whose URLs share a prefix: A on port P, B on port P·10 + d, so that B's URL starts with A's
 * (`http://127.0.0.1:4242` and `http://127.0.0.1:42421`): a token check by string prefix would leak to B.
 */
export async function prefixPair(a: FakeHubOptions, b: FakeHubOptions): Promise<[FakeHub, FakeHub]> {
  for (let tries = 0; tries < 50; tries++) {
    const p = 2000 + Math.floor(Math.random() * 4500);
    // Ports fetch refuses outright (its "bad ports" list).
    if ([2049, 3659, 4045, 4190, 5060, 5061, 6000].includes(p)) continue;
    const hubA = new FakeHub({ ...a, port: p });
    try {
      await hubA.start();
    } catch {
      continue;
    }
    for (let d = 0; d < 10; d++) {
      const hubB = new FakeHub({ ...b, port: p * 10 + d });
      try {
        await hubB.start();
        return [hubA, hubB];
      } catch {
        /* port taken: next digit */
      }
    }
    await hubA.close();
  }
  throw new Error('no pair of free ports with a common prefix');
}
