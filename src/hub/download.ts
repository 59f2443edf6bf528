// `downloadModel`: fetch the files a BERT sentence encoder needs from the hub (or a mirror) into a folder.
// Each file is written to `<name>.incomplete`, resumed with Range after a dropped connection or an
// interrupted run, checked against the hub's size and sha256 / git sha1, and only then renamed to `<name>`.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, readSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { HubClient, type FileMeta } from './client.js';
import { UsageError } from '../errors.js';
import { parseJson } from '../io/json.js';
import { FILE_LIMITS, formatSize, openRegularFile } from '../io/read-file.js';
import { HubError, HubUnreachableError, networkReason } from './errors.js';
import { defaultModelDir } from './paths.js';
import { isShardIndex, shardFiles, WEIGHT_FILES } from '../loader/weight-files.js';

export interface DownloadProgress {
  /** The file being fetched (hub path, e.g. `1_Pooling/config.json`). */
  file: string;
  fileBytes: number;
  fileTotal: number;
  /** Bytes of all selected files done so far (files already on disk count as done). */
  bytes: number;
  totalBytes: number;
}

export interface DownloadOptions {
  revision?: string;
  /** Target folder; default `weights/<id>/`. */
  dir?: string;
  /** The hub or a mirror; default HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  token?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Tries per file after a dropped connection before giving up (the partial file stays for the next run). */
  retries?: number;
  /**
   * Patience in ms (default SBERT_HUB_TIMEOUT seconds, else 30 s): an API call or HEAD must answer within it, a
   * transfer that receives nothing for twice it is resumed, and each file must arrive within it × (2 + its size
   * in MiB), however slowly a server drips it.
   */
  timeoutMs?: number;
  /** Abort a transfer that receives nothing for this long (ms; default 2 × timeoutMs); it is then resumed. */
  stallTimeoutMs?: number;
  /** What an "unreachable" message suggests: `model` when loading `--model ID` (it then mentions --model DIR). */
  purpose?: 'download' | 'model';
}

export interface DownloadResult {
  id: string;
  dir: string;
  /** The commit the files came from, when the hub said. */
  commit?: string;
  files: string[];
  /** Bytes transferred by this call (0 when everything was already there). */
  downloadedBytes: number;
  totalBytes: number;
}

/** Config and weights (WEIGHT_FILES, the loader's list) first; tokenizer and sentence-transformers files when present. */
const OPTIONAL_FILES = [
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
  '1_Pooling/config.json',
];

const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function isHubId(s: string): boolean {
  return HUB_ID.test(s) && !s.includes('..');
}

/** SBERT_HUB_TIMEOUT in ms, or undefined when unset; a bad value is a usage error. */
export function hubTimeoutFromEnv(): number | undefined {
  const raw = process.env.SBERT_HUB_TIMEOUT;
  if (raw === undefined || raw === '') return undefined;
  const s = Number(raw);
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || !(s > 0) || s > 86_400) {
    throw new UsageError(`SBERT_HUB_TIMEOUT=${JSON.stringify(raw)} is not a number of seconds in (0, 86400]`);
  }
  return s * 1000;
}

/** The deadline for a whole file of `bytes`: timeout × (2 + MiB). */
export function fileDeadlineMs(timeoutMs: number, bytes: number): number {
  return timeoutMs * (2 + bytes / 2 ** 20);
}

/** `dir` as the user would type it: relative to the working folder when inside it. */
function shownDir(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `${rel}/` : dir;
}

export async function downloadModel(id: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  if (!isHubId(id))
    throw new HubError(`"${id}" is not a hub model id (expected ORG/NAME, e.g. uer/sbert-base-chinese-nli)`);
  const revision = opts.revision ?? 'main';
  const dir = opts.dir ?? defaultModelDir(id);
  const fromEnv =
    opts.endpoint === undefined && process.env.HF_ENDPOINT !== undefined && process.env.HF_ENDPOINT !== '';
  const timeoutMs = opts.timeoutMs ?? hubTimeoutFromEnv() ?? 30_000;
  const client = new HubClient({
    id,
    revision,
    endpoint: opts.endpoint ?? (fromEnv ? process.env.HF_ENDPOINT! : 'https://huggingface.co'),
    endpointSource: fromEnv ? 'HF_ENDPOINT' : 'option',
    token: opts.token ?? process.env.HF_TOKEN,
    timeoutMs,
    // The folder as the user typed it (--dir), else relative to the working folder (weights/<id>/).
    advice: {
      dir: opts.dir !== undefined && opts.purpose !== 'model' ? opts.dir : shownDir(dir),
      command: opts.purpose ?? 'download',
    },
  });
  opts = { ...opts, timeoutMs };

  const { metas, commit } = await resolveFiles(client);
  // A settings or tokenizer file announced larger than the loader would ever read is refused before any byte
  // is written (a hostile server could otherwise fill the disk with a "config.json").
  for (const m of metas) if (m.size !== undefined) checkAnnounced(client, m.file, m.size);
  // And what is still to come must fit on the disk: refused now, not at ENOSPC half-way through a weights file.
  let need = 0;
  for (const m of metas) {
    if (m.size === undefined) continue;
    const dest = join(dir, ...m.file.split('/'));
    need += Math.max(0, m.size - Math.max(await fileSize(dest), await fileSize(`${dest}.incomplete`)));
  }
  await checkRoom(client, dir, need, `the files of ${id}`);

  // Nothing is written until every file is known to exist: a bad id or token leaves no trace.
  const totalBytes = metas.reduce((s, m) => s + (m.size ?? 0), 0);
  let doneBytes = 0;
  let downloadedBytes = 0;
  for (const meta of metas) {
    const dest = join(dir, ...meta.file.split('/'));
    if (await upToDate(dest, meta)) {
      doneBytes += meta.size ?? statSync(dest).size;
      opts.onProgress?.({
        file: meta.file,
        fileBytes: meta.size ?? 0,
        fileTotal: meta.size ?? 0,
        bytes: doneBytes,
        totalBytes,
      });
      continue;
    }
    const base = doneBytes;
    const got = await fetchFile(client, meta, dest, opts, (fileBytes) =>
      opts.onProgress?.({ file: meta.file, fileBytes, fileTotal: meta.size ?? 0, bytes: base + fileBytes, totalBytes }),
    );
    downloadedBytes += got.transferred;
    doneBytes += got.size;
  }
  return { id, dir, commit, files: metas.map((m) => m.file), downloadedBytes, totalBytes };
}

/** Which files to fetch, with their metadata: from the API listing, or by probing with HEAD when it is unavailable. */
async function resolveFiles(client: HubClient): Promise<{ metas: FileMeta[]; commit?: string }> {
  const listing = await client.listFiles();
  if (listing) {
    const have = new Set(listing.files);
    // Pin every file to the commit the listing came from, so a push in between cannot mix versions.
    const rev = listing.commit ?? client.revision;
    if (!have.has('config.json'))
      throw new HubError(`model ${client.id} (revision ${client.revision}) at ${client.endpoint} has no config.json`);
    const weights = WEIGHT_FILES.find((f) => have.has(f));
    if (!weights)
      throw new HubError(
        `model ${client.id} (revision ${client.revision}) at ${client.endpoint} has no ${WEIGHT_FILES.join(' or ')}`,
      );
    const wanted = ['config.json', weights, ...OPTIONAL_FILES.filter((f) => have.has(f))];
    const head = async (f: string): Promise<FileMeta> => {
      const m = await client.head(f, rev);
      if (!m)
        throw new HubError(
          `model ${client.id} (revision ${client.revision}): file ${f} is listed but not found at ${client.endpoint}`,
        );
      return m;
    };
    const metas = await Promise.all(wanted.map(head));
    if (isShardIndex(weights)) metas.push(...(await Promise.all((await shardsOf(client, metas[1]!)).map(head))));
    checkTokenizer(client, metas);
    return { metas, commit: listing.commit };
  }
  // No listing (a mirror without the API, or the API refused): probe. config.json decides not-found / auth errors.
  const config = await client.head('config.json');
  if (!config) throw new HubError(`model ${client.id} (revision ${client.revision}) not found at ${client.endpoint}`);
  let weights: FileMeta | null = null;
  for (const f of WEIGHT_FILES) if ((weights = await client.head(f))) break;
  if (!weights)
    throw new HubError(
      `model ${client.id} (revision ${client.revision}) at ${client.endpoint} has no ${WEIGHT_FILES.join(' or ')}`,
    );
  const optional = await Promise.all(OPTIONAL_FILES.map((f) => client.head(f)));
  const metas = [config, weights, ...optional.filter((m): m is FileMeta => m !== null)];
  if (isShardIndex(weights.file)) {
    for (const shard of await shardsOf(client, weights)) {
      const m = await client.head(shard);
      if (!m)
        throw new HubError(
          `model ${client.id} (revision ${client.revision}): shard ${shard} named by ${weights.file} not found at ${client.endpoint}`,
        );
      metas.push(m);
    }
  }
  checkTokenizer(client, metas);
  return { metas };
}

/** The shard files a sharded checkpoint's index names (the index is small JSON: read into memory, not saved here). */
async function shardsOf(client: HubClient, index: FileMeta): Promise<string[]> {
  const { res } = await client.request(index.url, { auth: index.auth });
  if (!res.ok) {
    await res.body?.cancel();
    throw client.statusError(res, index.file);
  }
  // Capped as it is read, announced or not: an endless index cannot grow memory.
  const text = await client.readCapped(res, MAX_INDEX_BYTES, `the shard index ${index.file}`);
  let json: unknown;
  try {
    json = parseJson(text, index.file, { maxEntries: 2 ** 20 });
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(`${index.file}: `, '') : String(e);
    throw new HubError(`${index.file} from ${client.endpoint}: ${why}`);
  }
  try {
    return shardFiles(json, index.file);
  } catch (e) {
    throw new HubError(
      `${index.file} from ${client.endpoint}: ${e instanceof Error ? e.message.replace(`${index.file}: `, '') : e}`,
    );
  }
}

/** A shard index lists one entry per tensor: a few hundred KB even for large models. */
const MAX_INDEX_BYTES = 16 << 20;

function checkTokenizer(client: HubClient, metas: FileMeta[]): void {
  if (!metas.some((m) => m.file === 'vocab.txt' || m.file === 'tokenizer.json')) {
    throw new HubError(
      `model ${client.id} (revision ${client.revision}) at ${client.endpoint} has no vocab.txt or tokenizer.json`,
    );
  }
}

/** A file already under its final name is kept when its size and (when the hub gives one) hash match. */
async function upToDate(dest: string, meta: FileMeta): Promise<boolean> {
  if (!existsSync(dest)) return false;
  const st = await stat(dest);
  if (!st.isFile()) return false;
  const size = st.size;
  if (meta.size !== undefined && size !== meta.size) return false;
  return hashMismatch(dest, meta, size) === null;
}

/** null when the file matches the hub's hash (or there is none to check), else a description of the mismatch. */
function hashMismatch(path: string, meta: FileMeta, size: number): string | null {
  if (!meta.sha256 && !meta.gitSha1) return null;
  const h = createHash(meta.sha256 ? 'sha256' : 'sha1');
  // A regular git file's ETag is the blob id: sha1("blob <size>\0" + content).
  if (!meta.sha256) h.update(`blob ${size}\0`);
  // Our own file, but opened as any other: a regular file, never a FIFO planted under its name.
  const { fd } = openRegularFile(path);
  try {
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const got = h.digest('hex');
  const want = meta.sha256 ?? meta.gitSha1;
  return got === want ? null : `${meta.sha256 ? 'sha256' : 'git sha1'} ${got} != expected ${want}`;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Free bytes on the disk that holds (or will hold) `dir`, for an unprivileged writer; undefined where the system
 * cannot say (then nothing is refused on that ground).
 */
async function freeBytes(dir: string): Promise<number | undefined> {
  let d = resolve(dir);
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
  try {
    const s = await statfs(d);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** `bytes` still to be written under `dir` must fit its disk's free space, else a HubError naming both sizes. */
async function checkRoom(client: HubClient, dir: string, bytes: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free !== undefined && bytes > free)
    throw new HubError(
      `${shownDir(dir)}: ${what} from ${client.endpoint} need ${formatSize(bytes)} more, but its disk has ${formatSize(free)} free; free some space or pick another folder (--dir)`,
    );
}

/** A settings or tokenizer file announced larger than its kind's cap (FILE_LIMITS) is refused. */
function checkAnnounced(client: HubClient, file: string, size: number): void {
  const cap = unannouncedCap(file);
  if (cap !== undefined && size > cap)
    throw new HubError(
      `${file}: ${client.endpoint} announces ${formatSize(size)}, more than the ${formatSize(cap)} the loader reads of such a file; refused`,
    );
}

/**
 * The most bytes we accept of a settings or tokenizer file, announced or not: what the loader would read of
 * it. Weights have no such cap: their size must be announced (by HEAD or the response), or they are refused.
 */
function unannouncedCap(file: string): number | undefined {
  // Weights, shards included (model-00001-of-00002.safetensors).
  if (/\.(safetensors|bin)$/.test(file)) return undefined;
  return /(^|\/)(tokenizer\.json|vocab\.txt)$/.test(file) ? FILE_LIMITS.tokenizer : FILE_LIMITS.config;
}

type Outcome = ReadableStreamReadResult<Uint8Array> | 'stall' | 'deadline';

/** The next chunk, or which limit passed first: nothing for `stallMs`, or the file's deadline. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  stallMs: number,
  deadlineAt: number,
): Promise<Outcome> {
  const left = deadlineAt - Date.now();
  const limit: 'stall' | 'deadline' = stallMs < left ? 'stall' : 'deadline';
  let timer: NodeJS.Timeout | undefined;
  const read = reader.read();
  read.catch(() => {}); // a read that lost the race rejects when the stream is cancelled
  // A chunk already queued resolves the read in a microtask, before any timer: received data is never lost.
  const late = new Promise<Outcome>(
    (resolve) => (timer = setTimeout(() => resolve(limit), Math.max(0, Math.min(stallMs, left)))),
  );
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Download one file through `<dest>.incomplete`, resuming it across dropped connections, within its deadline. */
async function fetchFile(
  client: HubClient,
  meta: FileMeta,
  dest: string,
  opts: DownloadOptions,
  onBytes: (fileBytes: number) => void,
): Promise<{ size: number; transferred: number }> {
  const part = `${dest}.incomplete`;
  await mkdir(dirname(dest), { recursive: true });
  const retries = opts.retries ?? 5;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const stallMs = opts.stallTimeoutMs ?? 2 * timeoutMs;
  let expected = meta.size;
  let transferred = 0;
  let lastFailure = '';
  const started = Date.now();
  // Fixed by the announced size (HEAD, else the first response, else the cap for the kind of file).
  const deadlineFor = (bytes: number) => started + fileDeadlineMs(timeoutMs, bytes);
  let deadlineAt = expected !== undefined ? deadlineFor(expected) : Infinity;
  const missedDeadline = async (): Promise<HubError> => {
    const have = await fileSize(part);
    const allowed = ((deadlineAt - started) / 1000).toFixed(1);
    return new HubError(
      `${meta.file}: ${client.endpoint} did not deliver it within ${allowed} s, the time allowed for ${formatSize(expected ?? have)} ` +
        `(SBERT_HUB_TIMEOUT=${timeoutMs / 1000} s per request and per MiB); ${have} bytes kept in ${part}: run the same command again to resume`,
    );
  };

  for (let attempt = 0; ; attempt++) {
    if (attempt > retries) {
      const have = await fileSize(part);
      throw new HubError(
        `${meta.file}: download from ${client.endpoint} interrupted at ${have} of ${expected ?? '?'} bytes (${lastFailure}) after ${retries + 1} tries; run the same command again to resume`,
      );
    }
    if (attempt > 0) await sleep(Math.min(100 * 2 ** (attempt - 1), 2000, Math.max(0, deadlineAt - Date.now())));
    if (Date.now() >= deadlineAt) throw await missedDeadline();
    let offset = await fileSize(part);
    if (expected !== undefined && offset > expected) {
      await rm(part, { force: true });
      offset = 0;
    }
    if (expected !== undefined && offset === expected) break;

    // Until the headers arrive: the stall limit and the deadline, whichever comes first.
    const abort = new AbortController();
    const headerTimer = setTimeout(() => abort.abort(), Math.max(0, Math.min(stallMs, deadlineAt - Date.now())));
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    let res: Response;
    try {
      ({ res } = await client.request(meta.url, { headers, signal: abort.signal, auth: meta.auth }));
    } catch (err) {
      if (Date.now() >= deadlineAt) throw await missedDeadline();
      if (!(err instanceof HubUnreachableError) || attempt >= retries) throw err;
      lastFailure = err.reason;
      continue;
    } finally {
      clearTimeout(headerTimer);
    }

    if (res.status === 416) {
      // Our partial is not a prefix the server can continue: start over.
      await res.body?.cancel();
      await rm(part, { force: true });
      lastFailure = 'HTTP 416';
      continue;
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      lastFailure = `HTTP ${res.status}`;
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw client.statusError(res, meta.file);
    }
    let append = false;
    const length = res.headers.get('content-length') ?? '';
    let bodyTotal = /^\d+$/.test(length) ? Number(length) : NaN;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== offset) {
        await res.body.cancel();
        await rm(part, { force: true });
        lastFailure = 'bad Content-Range';
        continue;
      }
      append = true;
      bodyTotal = m[3] === '*' ? NaN : Number(m[3]);
    }
    if (Number.isSafeInteger(bodyTotal)) {
      if (expected === undefined) {
        try {
          checkAnnounced(client, meta.file, bodyTotal);
        } catch (e) {
          await res.body.cancel();
          throw e;
        }
        try {
          await checkRoom(client, dirname(dest), bodyTotal - offset, meta.file);
        } catch (e) {
          await res.body.cancel();
          throw e;
        }
        expected = bodyTotal;
        deadlineAt = deadlineFor(expected);
      } else if (bodyTotal !== expected) {
        await res.body.cancel();
        await rm(part, { force: true });
        throw new HubError(
          `${meta.file}: ${client.endpoint} sent ${bodyTotal} bytes but announced ${expected}; partial download removed`,
        );
      }
    }
    // Every body is capped: at its announced size, else at what the loader would read of such a file.
    const cap = expected ?? unannouncedCap(meta.file);
    if (cap === undefined) {
      await res.body.cancel();
      throw new HubError(
        `${meta.file}: ${client.endpoint} announces no size for it (no X-Linked-Size or Content-Length); refusing an unbounded download`,
      );
    }
    if (expected === undefined && deadlineAt === Infinity) deadlineAt = deadlineFor(cap);

    // 200 to a Range request: the server restarts from byte 0.
    const fh = await open(part, append ? 'a' : 'w');
    let written = append ? offset : 0;
    const reader = res.body.getReader();
    let failure: HubError | undefined;
    let interrupted: string | undefined;
    try {
      for (;;) {
        const step = await readWithin(reader, stallMs, deadlineAt);
        if (step === 'stall') {
          interrupted = 'stalled';
          break;
        }
        if (step === 'deadline') {
          failure = await missedDeadline();
          break;
        }
        if (step.done) break;
        const chunk = step.value;
        if (written + chunk.byteLength > cap) {
          failure = new HubError(
            `${meta.file}: ${client.endpoint} sent more than the ${expected !== undefined ? 'announced' : 'allowed'} ${cap} bytes; partial download removed`,
          );
          await fh.truncate(0);
          break;
        }
        await fh.write(chunk);
        written += chunk.byteLength;
        transferred += chunk.byteLength;
        onBytes(written);
      }
    } catch (err) {
      // Connection dropped mid-body: keep what arrived, resume with Range.
      interrupted = networkReason(err);
    } finally {
      await reader.cancel().catch(() => {});
      abort.abort();
      await fh.close();
    }
    if (failure) {
      if (/partial download removed/.test(failure.message)) await rm(part, { force: true });
      throw failure;
    }
    if (expected === undefined ? interrupted === undefined : (await fileSize(part)) >= expected) break;
    lastFailure = interrupted ?? 'short body';
  }

  // An empty file needs no request at all, but still goes through the same verify-and-rename path.
  if (!existsSync(part)) await writeFile(part, new Uint8Array(0));
  const size = await fileSize(part);
  if (expected !== undefined && size !== expected) {
    await rm(part, { force: true });
    throw new HubError(
      `${meta.file}: got ${size} bytes from ${client.endpoint}, expected ${expected}; partial download removed`,
    );
  }
  const mismatch = hashMismatch(part, meta, size);
  if (mismatch) {
    await rm(part, { force: true });
    throw new HubError(
      `${meta.file}: checksum mismatch from ${client.endpoint} (${mismatch}); partial download removed, run again`,
    );
  }
  const fh = await open(part, 'r+');
  await fh.sync();
  await fh.close();
  await rename(part, dest);
  return { size, transferred };
}
