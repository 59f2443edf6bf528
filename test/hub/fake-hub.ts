// A local stand-in for the Hugging Face hub on 127.0.0.1 (random port), serving in-memory repositories in the
// hub's URL layout: the API listing, `resolve/<rev>/<file>` (ETag = git blob sha1, Range support), LFS files as
// a 302 to a "CDN" path with X-Linked-Size / X-Linked-Etag (sha256), plus faults: dropped connections,
// corrupted bodies, a missing API (as on some mirrors), and repositories that need a token.
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

export interface FakeHubOptions {
  repos: Record<string, FakeRepo>;
  /** Which files are LFS (redirected to the CDN with X-Linked-* headers). */
  lfs?: (file: string) => boolean;
  /** The API answers 404 (a mirror that only serves resolve/). */
  noApi?: boolean;
  /** Cut the connection after `bytes` body bytes on the first `times` GETs of `file`. */
  drop?: { file: string; bytes: number; times: number };
  /** Send `bytes` body bytes of `file` on the first `times` GETs, then go silent with the connection open. */
  stall?: { file: string; bytes: number; times: number };
  /** Never answer HEAD requests (a black-holed host). */
  silentHead?: boolean;
  /** Serve these files with one byte flipped (headers still announce the real hash). */
  corrupt?: string[];
}

export interface LoggedRequest {
  method: string;
  path: string;
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
  private stalls = 0;
  url = '';

  constructor(readonly opts: FakeHubOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
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
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
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

  private api(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    if (this.opts.noApi) return this.fail(res, 404);
    const repo = this.repo(req, res, id);
    if (!repo) return;
    if (rev !== 'main' && rev !== COMMIT) return this.fail(res, 404, 'RevisionNotFound');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id, sha: COMMIT, siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })) }));
  }

  private resolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, file: string): void {
    const repo = this.repo(req, res, id);
    if (!repo) return;
    if (rev !== 'main' && rev !== COMMIT) return this.fail(res, 404, 'RevisionNotFound');
    const data = repo.files[file];
    if (!data) return this.fail(res, 404, 'EntryNotFound');
    const headers = { 'X-Repo-Commit': COMMIT };
    if (this.isLfs(file)) {
      const sha = sha256(data);
      res.writeHead(302, {
        ...headers,
        Location: `${this.url}/cdn/${id}/${file}`,
        'X-Linked-Size': String(data.length),
        'X-Linked-Etag': `"${sha}"`,
        ETag: `"${sha}"`,
        'Content-Length': '0',
      });
      return void res.end();
    }
    this.body(req, res, file, data, { ...headers, ETag: `"${gitSha1(data)}"` });
  }

  /** A file body with Content-Length and Range support, and the configured faults. */
  private body(req: IncomingMessage, res: ServerResponse, file: string, original: Buffer, headers: Record<string, string>): void {
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
    res.writeHead(status, { ...headers, 'Content-Length': String(slice.length), 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const drop = this.opts.drop;
    if (drop && drop.file === file && this.drops < drop.times) {
      this.drops++;
      // Send part of the body, let it reach the client, then cut the connection.
      res.write(slice.subarray(0, drop.bytes), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    const stall = this.opts.stall;
    if (stall && stall.file === file && this.stalls < stall.times) {
      this.stalls++;
      res.write(slice.subarray(0, stall.bytes));
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
