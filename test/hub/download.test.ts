// downloadModel / ensureModel against a fake hub on 127.0.0.1 serving the tiny fixtures.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { downloadModel, type DownloadProgress } from '../../src/hub/download.js';
import { ensureModel } from '../../src/hub/ensure.js';
import { UsageError } from '../../src/errors.js';
import { loadModelDir } from '../../src/loader/model-dir.js';
import { readSafetensors, serializeSafetensors } from '../../src/loader/safetensors.js';
import { HubError, HubUnreachableError } from '../../src/hub/errors.js';
import { fixture } from '../fixtures.js';
import { closedPort, COMMIT, FakeHub, type FakeHubOptions, type FakeRepo } from './fake-hub.js';

const ID = 'uer/sbert-base-chinese-nli';
const read = (...p: string[]): Buffer => readFileSync(fixture('tiny', ...p));

/** uer/sbert-base-chinese-nli as the hub has it: HF weights + vocab, sentence-transformers files, and files we skip. */
function uerRepo(): FakeRepo {
  return {
    files: {
      'config.json': read('uer-converted', 'config.json'),
      'pytorch_model.bin': read('uer-converted', 'pytorch_model.bin'),
      'vocab.txt': read('uer-converted', 'vocab.txt'),
      'tokenizer_config.json': read('st', 'tokenizer_config.json'),
      'modules.json': read('st', 'modules.json'),
      'sentence_bert_config.json': read('st', 'sentence_bert_config.json'),
      'config_sentence_transformers.json': read('st', 'config_sentence_transformers.json'),
      '1_Pooling/config.json': read('st', '1_Pooling', 'config.json'),
      'README.md': read('st', 'README.md'),
      '.gitattributes': Buffer.from('*.bin filter=lfs diff=lfs merge=lfs -text\n'),
      'tf_model.h5': Buffer.from('not wanted'),
    },
  };
}
/** The tiny HF model as a sharded safetensors checkpoint: an index and two shards (as save_pretrained writes big models). */
function shardedRepo(): FakeRepo {
  const all = [...readSafetensors(fixture('tiny', 'hf', 'model.safetensors')).tensors.values()];
  const files: Record<string, Buffer> = {
    'config.json': read('hf', 'config.json'),
    'tokenizer.json': read('hf', 'tokenizer.json'),
    'tokenizer_config.json': read('hf', 'tokenizer_config.json'),
  };
  const map: Record<string, string> = {};
  [all.slice(0, 20), all.slice(20)].forEach((part, i) => {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    files[name] = Buffer.from(
      serializeSafetensors(part.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes }))),
    );
    for (const t of part) map[t.name] = name;
  });
  files['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: {}, weight_map: map }));
  return { files };
}
const SHARDED = Object.keys(shardedRepo().files).sort();

const WANTED = [
  '1_Pooling/config.json',
  'config.json',
  'config_sentence_transformers.json',
  'modules.json',
  'pytorch_model.bin',
  'sentence_bert_config.json',
  'tokenizer_config.json',
  'vocab.txt',
];

/** Every file under dir, relative, sorted. */
function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

function expectSameFiles(dir: string, repo: FakeRepo, files: string[]): void {
  expect(listTree(dir)).toEqual([...files].sort());
  for (const f of files) expect(readFileSync(join(dir, f)).equals(repo.files[f]!), f).toBe(true);
}

let tmp: string;
let hub: FakeHub | undefined;
const saved = {
  HF_ENDPOINT: process.env.HF_ENDPOINT,
  HF_TOKEN: process.env.HF_TOKEN,
  SBERT_WEIGHTS: process.env.SBERT_WEIGHTS,
  HF_HUB_CACHE: process.env.HF_HUB_CACHE,
};

async function startHub(opts: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  hub = await new FakeHub({ repos: { [ID]: uerRepo() }, ...opts }).start();
  return hub;
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sbert-hub-'));
  delete process.env.HF_ENDPOINT;
  delete process.env.HF_TOKEN;
  // Never pick up a real huggingface_hub cache on the machine running the tests.
  process.env.HF_HUB_CACHE = join(tmp, 'hf-cache');
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  rmSync(tmp, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('downloadModel', () => {
  it('fetches config, weights, vocab and sentence-transformers files, pinned to the listed commit', async () => {
    const h = await startHub();
    const dir = join(tmp, 'm');
    const events: DownloadProgress[] = [];
    const res = await downloadModel(ID, { endpoint: h.url, dir, onProgress: (p) => events.push(p) });
    const repo = h.opts.repos[ID]!;
    expectSameFiles(dir, repo, WANTED);
    const total = WANTED.reduce((s, f) => s + repo.files[f]!.length, 0);
    expect(res).toMatchObject({ dir, commit: COMMIT, totalBytes: total, downloadedBytes: total });
    expect([...res.files].sort()).toEqual(WANTED);
    expect(events.at(-1)).toMatchObject({ bytes: total, totalBytes: total });
    // Every file request used the commit, not the moving branch; the weights went through the LFS redirect.
    const fileReqs = h.requests.filter((r) => r.path.includes('/resolve/'));
    expect(fileReqs.length).toBeGreaterThan(0);
    for (const r of fileReqs) expect(r.path).toContain(`/resolve/${COMMIT}/`);
    expect(h.bodyGets().map((r) => r.path)).toContain(`/cdn/${ID}/pytorch_model.bin`);
    expect(h.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('prefers model.safetensors over pytorch_model.bin and takes tokenizer.json when there is no vocab.txt', async () => {
    const st: FakeRepo = {
      files: {
        'config.json': read('st', 'config.json'),
        'model.safetensors': read('st', 'model.safetensors'),
        'pytorch_model.bin': read('uer-converted', 'pytorch_model.bin'),
        'tokenizer.json': read('st', 'tokenizer.json'),
        'special_tokens_map.json': Buffer.alloc(0),
      },
    };
    const h = await startHub({ repos: { 'x/st': st } });
    const dir = join(tmp, 'st');
    await downloadModel('x/st', { endpoint: h.url, dir });
    expectSameFiles(dir, st, ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json']);
    expect(h.requests.some((r) => r.path.endsWith('pytorch_model.bin'))).toBe(false);
  });

  it('resumes with Range after the connection ends mid-file and ends byte-identical (at exact offsets)', async () => {
    const h = await startHub({ drop: { file: 'pytorch_model.bin', bytes: 1_000_000, times: 2 } });
    const dir = join(tmp, 'm');
    const res = await downloadModel(ID, { endpoint: h.url, dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    const gets = h.bodyGets().filter((r) => r.path === `/cdn/${ID}/pytorch_model.bin`);
    // First GET from 0, then resumed twice, each from where the previous one stopped.
    expect(gets.map((r) => r.range)).toEqual([undefined, 'bytes=1000000-', 'bytes=2000000-']);
    // Nothing was fetched twice.
    expect(res.downloadedBytes).toBe(res.totalBytes);
  });

  it('resumes a .incomplete file left by an interrupted run', async () => {
    const h = await startHub();
    const dir = join(tmp, 'm');
    const weights = h.opts.repos[ID]!.files['pytorch_model.bin']!;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pytorch_model.bin.incomplete'), weights.subarray(0, 700_000));
    const res = await downloadModel(ID, { endpoint: h.url, dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    expect(
      h
        .bodyGets()
        .filter((r) => r.path === `/cdn/${ID}/pytorch_model.bin`)
        .map((r) => r.range),
    ).toEqual(['bytes=700000-']);
    expect(res.downloadedBytes).toBe(res.totalBytes - 700_000);
  });

  it('resumes after a connection reset, wherever the reset cut it, never fetching a byte twice', async () => {
    const h = await startHub({ reset: { file: 'pytorch_model.bin', bytes: 1_000_000, times: 2 } });
    const dir = join(tmp, 'm');
    const res = await downloadModel(ID, { endpoint: h.url, dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    // How much arrives before a reset is up to the network: only the order of the offsets is certain.
    const starts = h
      .bodyGets()
      .filter((r) => r.path === `/cdn/${ID}/pytorch_model.bin`)
      .map((r) => Number(/^bytes=(\d+)-$/.exec(r.range ?? 'bytes=0-')![1]));
    expect(starts).toHaveLength(3);
    expect(starts[0]).toBe(0);
    expect(starts[1]!).toBeLessThanOrEqual(1_000_000);
    expect(starts[2]!).toBeGreaterThanOrEqual(starts[1]!);
    expect(res.downloadedBytes).toBe(res.totalBytes);
  });

  it('aborts a transfer that stalls and resumes it', async () => {
    const h = await startHub({ stall: { file: 'pytorch_model.bin', bytes: 800_000, times: 1 } });
    const dir = join(tmp, 'm');
    const res = await downloadModel(ID, { endpoint: h.url, dir, stallTimeoutMs: 300 });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    // Data already received is never lost to the stall timer. When the limit passes is up to the clock: a
    // machine too busy to run this process for 300 ms sees a stall before the last of the 800 000 bytes, or
    // one more on a resumed transfer (the server and the client share this event loop, and timers run before
    // sockets are read). So only the order is certain: each resume starts where the bytes so far ended.
    const starts = h
      .bodyGets()
      .filter((r) => r.path === `/cdn/${ID}/pytorch_model.bin`)
      .map((r) => (r.range === undefined ? 0 : Number(/^bytes=(\d+)-$/.exec(r.range)![1])));
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts[0]).toBe(0);
    expect(starts[1]!).toBeLessThanOrEqual(800_000);
    for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThanOrEqual(starts[i - 1]!);
    expect(res.downloadedBytes).toBe(res.totalBytes);
  });

  it('treats a hub that never answers as unreachable', async () => {
    const h = await startHub({ noApi: true, silentHead: true });
    const dir = join(tmp, 'm');
    await expect(downloadModel(ID, { endpoint: h.url, dir, timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`^cannot reach the model hub at ${h.url} \\(timed out\\); .*HF_ENDPOINT`),
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('gives up after the retries, keeping the partial file for the next run', async () => {
    const h = await startHub({ drop: { file: 'pytorch_model.bin', bytes: 100_000, times: 100 } });
    const dir = join(tmp, 'm');
    await expect(downloadModel(ID, { endpoint: h.url, dir, retries: 2 })).rejects.toThrow(
      /^pytorch_model\.bin: download from .* interrupted at 300000 of 2851318 bytes .* after 3 tries; run the same command again to resume$/,
    );
    expect(existsSync(join(dir, 'pytorch_model.bin'))).toBe(false);
    expect(readFileSync(join(dir, 'pytorch_model.bin.incomplete')).length).toBe(300_000);
  });

  it('rejects a corrupted LFS body by sha256 and removes the partial', async () => {
    const h = await startHub({ corrupt: ['pytorch_model.bin'] });
    const dir = join(tmp, 'm');
    const err = await downloadModel(ID, { endpoint: h.url, dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toMatch(
      /^pytorch_model\.bin: checksum mismatch from .*\(sha256 [0-9a-f]{64} != expected [0-9a-f]{64}\)/,
    );
    expect(listTree(dir).filter((f) => f.startsWith('pytorch_model.bin'))).toEqual([]);
  });

  it('rejects a corrupted regular file by its git blob sha1', async () => {
    const h = await startHub({ corrupt: ['vocab.txt'] });
    const dir = join(tmp, 'm');
    await expect(downloadModel(ID, { endpoint: h.url, dir })).rejects.toThrow(
      /^vocab\.txt: checksum mismatch .*git sha1/,
    );
    expect(listTree(dir).filter((f) => f.startsWith('vocab.txt'))).toEqual([]);
  });

  it('discards a stale .incomplete that does not match, then succeeds on the next run', async () => {
    const h = await startHub();
    const dir = join(tmp, 'm');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pytorch_model.bin.incomplete'), Buffer.alloc(500_000, 7));
    await expect(downloadModel(ID, { endpoint: h.url, dir })).rejects.toThrow(
      /checksum mismatch.*partial download removed/,
    );
    expect(existsSync(join(dir, 'pytorch_model.bin.incomplete'))).toBe(false);
    await downloadModel(ID, { endpoint: h.url, dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
  });

  it('skips files already present and verified, and replaces a damaged one', async () => {
    const h = await startHub();
    const dir = join(tmp, 'm');
    await downloadModel(ID, { endpoint: h.url, dir });
    const before = h.bodyGets().length;
    const again = await downloadModel(ID, { endpoint: h.url, dir });
    expect(again.downloadedBytes).toBe(0);
    expect(h.bodyGets().length).toBe(before);
    // Same size, different bytes: caught by the hash and fetched again.
    const vocab = readFileSync(join(dir, 'vocab.txt'));
    vocab[0]! ^= 1;
    writeFileSync(join(dir, 'vocab.txt'), vocab);
    const third = await downloadModel(ID, { endpoint: h.url, dir });
    expect(third.downloadedBytes).toBe(h.opts.repos[ID]!.files['vocab.txt']!.length);
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
  });

  it('probes with HEAD when the listing API is missing (mirrors)', async () => {
    const h = await startHub({ noApi: true });
    const dir = join(tmp, 'm');
    const res = await downloadModel(ID, { endpoint: h.url, dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    expect(res.commit).toBeUndefined();
    expect(
      h.requests.some((r) => r.method === 'HEAD' && r.path === `/${ID}/resolve/main/special_tokens_map.json`),
    ).toBe(true);
  });

  it('says clearly when the model or revision does not exist, and writes nothing', async () => {
    for (const noApi of [false, true]) {
      const h = await startHub({ noApi });
      const dir = join(tmp, 'none');
      await expect(downloadModel('nobody/nothing', { endpoint: h.url, dir })).rejects.toThrow(
        new HubError(`model nobody/nothing (revision main) not found at ${h.url}`),
      );
      await expect(downloadModel(ID, { endpoint: h.url, dir, revision: 'v9' })).rejects.toThrow(
        new HubError(`revision v9 of model ${ID} not found at ${h.url}`),
      );
      expect(existsSync(dir)).toBe(false);
      await h.close();
      hub = undefined;
    }
  });

  it('needs HF_TOKEN for a private model and honours it', async () => {
    const priv = { ...uerRepo(), token: 'hf_secret' };
    const h = await startHub({ repos: { 'me/private': priv } });
    const dir = join(tmp, 'p');
    await expect(downloadModel('me/private', { endpoint: h.url, dir })).rejects.toThrow(
      new HubError(
        `model me/private (revision main) at ${h.url} needs authentication (HTTP 401): set HF_TOKEN to a token that can read it`,
      ),
    );
    await expect(downloadModel('me/private', { endpoint: h.url, dir, token: 'hf_wrong' })).rejects.toThrow(
      /rejected HF_TOKEN \(HTTP 401\)/,
    );
    expect(existsSync(dir)).toBe(false);
    process.env.HF_TOKEN = 'hf_secret';
    const first = h.requests.length;
    await downloadModel('me/private', { endpoint: h.url, dir });
    expectSameFiles(dir, priv, WANTED);
    expect(
      h.requests
        .slice(first)
        .filter((r) => !r.path.startsWith('/cdn/'))
        .every((r) => r.authorization === 'Bearer hf_secret'),
    ).toBe(true);
  });

  it('honours HF_ENDPOINT', async () => {
    const h = await startHub();
    process.env.HF_ENDPOINT = `${h.url}/`;
    const dir = join(tmp, 'm');
    await downloadModel(ID, { dir });
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    expect(h.requests[0]!.path).toBe(`/api/models/${ID}/revision/main`);
  });

  it('says in one line how to proceed when the hub cannot be reached, true to the case', async () => {
    const dir = join(tmp, 'm');
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await downloadModel(ID, { endpoint, dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubUnreachableError);
    const msg = (err as Error).message;
    expect(msg).toBe(
      `cannot reach the model hub at ${endpoint} (ECONNREFUSED); to proceed, set HF_ENDPOINT to a reachable mirror ` +
        `(e.g. HF_ENDPOINT=https://hf-mirror.com), or run \`sbert download ${ID}\` on a machine that can reach the hub and copy the folder into ${dir}`,
    );
    expect(existsSync(dir)).toBe(false);
    // HF_ENDPOINT already set: suggesting a mirror there would be beside the point.
    process.env.HF_ENDPOINT = endpoint;
    const viaEnv = ((await downloadModel(ID, { dir }).catch((e: unknown) => e)) as Error).message;
    expect(viaEnv).toContain(`check HF_ENDPOINT (set to ${endpoint}), or unset it to use https://huggingface.co`);
    expect(viaEnv).not.toContain('hf-mirror');
    // Loading --model ID: the folder is weights/<id>/ under the working folder, and --model DIR is an option.
    const viaModel = (
      (await downloadModel(ID, { dir: join(process.cwd(), 'weights', ID), purpose: 'model' }).catch(
        (e: unknown) => e,
      )) as Error
    ).message;
    expect(viaModel).toMatch(new RegExp(`copy the folder into weights/${ID}/, or pass --model DIR$`));
  });

  it('refuses an HF_ENDPOINT that is not an http(s) URL with a true message, before any request', async () => {
    for (const [value, why] of [
      ['notaurl', 'is not a URL'],
      ['ftp://mirror.example/', 'is not an http:// or https:// URL'],
      ['file:///etc', 'is not an http:// or https:// URL'],
      ['https://user:hunter2@mirror.example', 'carries a user name or password; give the token in HF_TOKEN instead'],
      ['https://mirror.example/?x=1', 'has a query or fragment'],
    ]) {
      process.env.HF_ENDPOINT = value!;
      const err = (await downloadModel(ID, { dir: join(tmp, 'm') }).catch((e: unknown) => e)) as Error;
      expect(err, value).toBeInstanceOf(UsageError);
      expect(err.message, value).toContain(why!);
      expect(err.message).toMatch(/^HF_ENDPOINT="/);
      expect(err.message).not.toContain('hunter2');
      expect(err.message).not.toContain('cannot reach');
    }
    expect(existsSync(join(tmp, 'm'))).toBe(false);
  });
});

describe('sharded checkpoints on the hub', () => {
  it('downloadModel fetches the index and every shard it names; the folder then loads', async () => {
    for (const noApi of [false, true]) {
      const h = await startHub({ repos: { [ID]: shardedRepo() }, noApi });
      const dir = join(tmp, `sharded-${noApi}`);
      await downloadModel(ID, { endpoint: h.url, dir });
      expectSameFiles(dir, h.opts.repos[ID]!, SHARDED);
      const m = loadModelDir(dir);
      expect(m.weightsFile).toBe(join(dir, 'model.safetensors.index.json'));
      expect(m.weights.get('encoder.layer.1.output.dense.weight').shape).toEqual([32, 64]);
      await h.close();
      hub = undefined;
    }
  });

  it('ensureModel finds a sharded model already in weights/<id>/ without the network (no re-download)', async () => {
    const h = await startHub({ repos: { [ID]: shardedRepo() } });
    process.env.SBERT_WEIGHTS = join(tmp, 'weights');
    process.env.HF_ENDPOINT = h.url;
    const dir = await ensureModel(ID);
    expectSameFiles(dir, h.opts.repos[ID]!, SHARDED);
    const seen = h.requests.length;
    expect(await ensureModel(ID)).toBe(dir);
    expect(h.requests.length).toBe(seen);
    // A shard missing is an unfinished download: fetched again.
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    expect(await ensureModel(ID)).toBe(dir);
    expect(h.requests.length).toBeGreaterThan(seen);
    expectSameFiles(dir, h.opts.repos[ID]!, SHARDED);
  });
});

describe('ensureModel', () => {
  it('uses a folder as is, downloads a missing id into weights/<id>/ once, then finds it offline', async () => {
    expect(await ensureModel(fixture('tiny', 'st'))).toBe(fixture('tiny', 'st'));
    const h = await startHub();
    process.env.SBERT_WEIGHTS = join(tmp, 'weights');
    process.env.HF_ENDPOINT = h.url;
    // The library reports through callbacks and writes nothing itself (the CLI renders the progress).
    const events: string[] = [];
    const write = vi.spyOn(process.stderr, 'write');
    const dir = await ensureModel(ID, {
      onStart: (e) => events.push(`start ${e.id} ${relative(tmp, e.dir)} ${e.endpoint === h.url}`),
      onProgress: (p) => events.push(`bytes ${p.bytes === p.totalBytes ? 'all' : 'some'}`),
      onDone: (r) => events.push(`done ${r.files.length}`),
    });
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
    expect(events[0]).toBe('start uer/sbert-base-chinese-nli weights/uer/sbert-base-chinese-nli true');
    expect(events.at(-2)).toBe('bytes all');
    expect(events.at(-1)).toBe(`done ${WANTED.length}`);
    expect(dir).toBe(join(tmp, 'weights', 'uer', 'sbert-base-chinese-nli'));
    expectSameFiles(dir, h.opts.repos[ID]!, WANTED);
    const seen = h.requests.length;
    process.env.HF_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
    expect(await ensureModel(ID)).toBe(dir);
    expect(h.requests.length).toBe(seen);
  });

  it('fails in one line when the model is not local and the hub is unreachable', async () => {
    process.env.SBERT_WEIGHTS = join(tmp, 'weights');
    process.env.HF_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
    await expect(ensureModel(ID)).rejects.toThrow(
      /^cannot reach the model hub at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*--model DIR$/,
    );
    await expect(ensureModel('./no/such/dir')).rejects.toThrow(/^\.\/no\/such\/dir: no such model folder/);
    const h = await startHub();
    process.env.HF_ENDPOINT = h.url;
    await expect(ensureModel('no/such')).rejects.toThrow(
      new HubError(`no/such: no such model folder, and model no/such (revision main) not found at ${h.url}`),
    );
  });

  it('finds a complete snapshot in the huggingface_hub cache without the network', async () => {
    process.env.SBERT_WEIGHTS = join(tmp, 'weights');
    process.env.HF_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
    const repo = join(tmp, 'hf-cache', 'models--uer--sbert-base-chinese-nli');
    const snap = join(repo, 'snapshots', COMMIT);
    mkdirSync(snap, { recursive: true });
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), COMMIT);
    for (const f of ['config.json', 'pytorch_model.bin', 'vocab.txt'])
      symlinkSync(fixture('tiny', 'uer-converted', f), join(snap, f));
    expect(await ensureModel(ID)).toBe(snap);
  });
});
