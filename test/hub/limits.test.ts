// Bounded reads from a hostile server: every body is capped at its announced size (the API listing at a fixed
// cap), and every file has an overall deadline scaled to its size (SBERT_HUB_TIMEOUT, set short here), besides
// the stall timer. Each case ends in one clear error within its deadline; the CLI ones in < 200 MB RSS.
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { MAX_LISTING_BYTES } from '../../src/hub/client.js';
import { downloadModel, fileDeadlineMs } from '../../src/hub/download.js';
import { HubError } from '../../src/hub/errors.js';
import { FILE_LIMITS } from '../../src/io/read-file.js';
import { errorLine, sbert } from '../cli.js';
import { fixture } from '../fixtures.js';
import { type Figure, report, sbertMeasured } from '../measure.js';
import { FakeHub, type FakeHubOptions, type FakeRepo } from './fake-hub.js';

const ID = 'evil/model';
let tmp: string;
const hubs: FakeHub[] = [];
const figures: Figure[] = [];

function repo(): FakeRepo {
  return {
    files: {
      'config.json': readFileSync(fixture('tiny', 'uer-converted', 'config.json')),
      'pytorch_model.bin': Buffer.alloc(1000, 7),
      'vocab.txt': readFileSync(fixture('tiny', 'uer-converted', 'vocab.txt')),
    },
  };
}

async function hub(opts: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  const h = await new FakeHub({ repos: { [ID]: repo() }, ...opts }).start();
  hubs.push(h);
  return h;
}

/** downloadModel's error, and how long it took (reported, never asserted). */
async function failure(what: string, h: FakeHub, opts: Parameters<typeof downloadModel>[1] = {}): Promise<Error> {
  const t0 = performance.now();
  const err = await downloadModel(ID, { endpoint: h.url, dir: join(tmp, 'm'), ...opts }).catch((e: unknown) => e);
  figures.push({ what, ms: performance.now() - t0 });
  expect(err, what).toBeInstanceOf(Error);
  return err as Error;
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sbert-limits-'));
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('bounded reads from the hub', () => {
  it('a file announced as 1 000 bytes that streams without end: stopped at the announcement, partial removed', async () => {
    const h = await hub({ endless: ['pytorch_model.bin'] });
    const err = await failure('LFS 1 000 bytes announced, endless body', h);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toBe(
      `pytorch_model.bin: ${h.url} sent more than the announced 1000 bytes; partial download removed`,
    );
    expect(existsSync(join(tmp, 'm', 'pytorch_model.bin.incomplete'))).toBe(false);
    expect(existsSync(join(tmp, 'm', 'pytorch_model.bin'))).toBe(false);
  });

  it('variants: a regular file whose GET never ends, a lying HEAD, no size anywhere', async () => {
    // config.json: HEAD says its size, the GET streams on without one.
    const a = await hub({ endless: ['config.json'] });
    const size = repo().files['config.json']!.length;
    expect((await failure('config.json endless after its HEAD size', a)).message).toBe(
      `config.json: ${a.url} sent more than the announced ${size} bytes; partial download removed`,
    );
    // HEAD announces 10 bytes, the GET's Content-Length the real size: refused before a byte is written.
    const b = await hub({ announce: { 'pytorch_model.bin': 10 } });
    expect((await failure('X-Linked-Size 10, Content-Length 1000', b)).message).toBe(
      `pytorch_model.bin: ${b.url} sent 1000 bytes but announced 10; partial download removed`,
    );
    // Weights with no size at all (no X-Linked-Size, no Content-Length): an unbounded download is refused.
    const c = await hub({ unsized: ['pytorch_model.bin'], endless: ['pytorch_model.bin'] });
    expect((await failure('weights with no size announced', c)).message).toBe(
      `pytorch_model.bin: ${c.url} announces no size for it (no X-Linked-Size or Content-Length); refusing an unbounded download`,
    );
    // A tokenizer file with no size, endless: capped at what the loader would read of such a file.
    const d = await hub({ unsized: ['vocab.txt'], endless: ['vocab.txt'] });
    expect((await failure('vocab.txt with no size, endless', d)).message).toBe(
      `vocab.txt: ${d.url} sent more than the allowed ${FILE_LIMITS.tokenizer} bytes; partial download removed`,
    );
    expect(existsSync(join(tmp, 'm', 'vocab.txt.incomplete'))).toBe(false);
  });

  // Issue 14 variant: a config.json announced (and served) as 1 GB was written whole to disk before its
  // checksum or the loader's 16 MiB cap refused it; a hostile size could fill the disk.
  it('a settings or tokenizer file announced past what the loader reads is refused before a byte is written', async () => {
    for (const [file, size, cap] of [
      ['config.json', 2 ** 30, '16 MiB'],
      ['config.json', FILE_LIMITS.config + 1, '16 MiB'],
      ['vocab.txt', FILE_LIMITS.tokenizer + 1, '64 MiB'],
    ] as const) {
      const h = await hub({ announce: { [file]: size } });
      const err = await failure(`${file} announced as ${size} bytes`, h);
      expect(err).toBeInstanceOf(HubError);
      expect(err.message).toMatch(
        new RegExp(
          `^${file.replace('.', '\\.')}: ${h.url} announces [\\d.]+ [MG]iB, more than the ${cap} the loader reads of such a file; refused$`,
        ),
      );
      expect(h.bodyGets()).toEqual([]);
      expect(existsSync(join(tmp, 'm')), file).toBe(false);
    }
  });

  it('weights announced larger than the free disk space are refused before a byte is written', async () => {
    const huge = 2 ** 50; // 1 PiB: more than any test machine's disk
    const free = statfsSync(tmp).bavail * statfsSync(tmp).bsize;
    expect(free).toBeLessThan(huge);
    // announced by HEAD (the listing): refused before any GET, nothing written
    const h = await hub({ announce: { 'pytorch_model.bin': huge } });
    const err = await failure('weights announced as 1 PiB', h);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).toMatch(
      new RegExp(
        `^${join(tmp, 'm')}: the files of ${ID} from ${h.url} need 1024 TiB more, but its disk has [\\d.]+ [KMGT]i?B free; free some space or pick another folder \\(--dir\\)$`,
      ),
    );
    expect(h.bodyGets()).toEqual([]);
    expect(existsSync(join(tmp, 'm'))).toBe(false);
    // announced only by the GET's Content-Length: refused at the headers, the partial removed
    const g = await hub({ lateAnnounce: { 'pytorch_model.bin': huge } });
    const late = await failure('weights announced as 1 PiB by the GET only', g);
    expect(late.message).toMatch(
      new RegExp(
        `^${join(tmp, 'm')}: pytorch_model\\.bin from ${g.url} need 1024 TiB more, but its disk has [\\d.]+ [KMGT]i?B free; free some space or pick another folder \\(--dir\\)$`,
      ),
    );
    expect(existsSync(join(tmp, 'm', 'pytorch_model.bin'))).toBe(false);
    expect(
      existsSync(join(tmp, 'm', 'pytorch_model.bin.incomplete'))
        ? statSync(join(tmp, 'm', 'pytorch_model.bin.incomplete')).size
        : 0,
    ).toBe(0);
  });

  it('the API listing is capped: an endless listing is refused at 16 MiB', async () => {
    const h = await hub({ listing: { endless: true } });
    const err = await failure('endless API listing', h);
    expect(err.message).toBe(
      `${h.url} sent more than ${MAX_LISTING_BYTES} bytes for the file listing of model ${ID}; refused`,
    );
  });

  it("a server dripping one byte at a time never trips the stall timer, but the file's deadline ends it", async () => {
    // 1 000 bytes at one byte per 300 ms would take 5 minutes; with a 1 s timeout the stall limit is 2 s
    // (never reached) and the file's deadline 1 × (2 + 1000 / 2^20) s.
    const h = await hub({ drip: { file: 'pytorch_model.bin', everyMs: 300 } });
    const err = await failure('1 byte / 300 ms, deadline 2.0 s', h, { timeoutMs: 1000 });
    expect(err.message).toMatch(
      new RegExp(
        `^pytorch_model\\.bin: ${h.url} did not deliver it within 2\\.0 s, the time allowed for 1000 bytes \\(SBERT_HUB_TIMEOUT=1 s per request and per MiB\\); \\d+ bytes kept in .*pytorch_model\\.bin\\.incomplete: run the same command again to resume$`,
      ),
    );
    // Whatever arrived in time is kept for a later run (how much depends on the clock, so only its bound).
    const part = join(tmp, 'm', 'pytorch_model.bin.incomplete');
    expect(existsSync(part) ? statSync(part).size : 0).toBeLessThan(1000);
    expect(fileDeadlineMs(1000, 1000)).toBeCloseTo(2001, 0);
  });

  it('a dripped listing ends at the request timeout', async () => {
    const h = await hub({ listing: { dripMs: 200 } });
    const err = await failure('API listing, 1 byte / 200 ms, timeout 1 s', h, { timeoutMs: 1000 });
    expect(err.message).toBe(
      `${h.url} did not finish sending the file listing of model ${ID} within 1 s (SBERT_HUB_TIMEOUT)`,
    );
  });

  it('SBERT_HUB_TIMEOUT sets the deadlines; a bad value is a usage error; sbert --help documents it', async () => {
    const h = await hub({ drip: { file: 'pytorch_model.bin', everyMs: 300 } });
    process.env.SBERT_HUB_TIMEOUT = '1.5';
    try {
      const err = await failure('deadline from SBERT_HUB_TIMEOUT=1.5', h);
      expect(err.message).toContain('did not deliver it within 3.0 s');
      for (const bad of ['0', '-1', 'soon', '1e9']) {
        process.env.SBERT_HUB_TIMEOUT = bad;
        const e = await downloadModel(ID, { endpoint: h.url, dir: join(tmp, 'n') }).catch((x: unknown) => x);
        expect(e, bad).toBeInstanceOf(UsageError);
        expect((e as Error).message).toBe(
          `SBERT_HUB_TIMEOUT=${JSON.stringify(bad)} is not a number of seconds in (0, 86400]`,
        );
      }
    } finally {
      delete process.env.SBERT_HUB_TIMEOUT;
    }
    const help = await sbert(['--help']);
    expect(help.stdout).toMatch(/SBERT_HUB_TIMEOUT +seconds \(default 30\)/);
  });

  it('sbert download: each limit ends in one error line and exit 2, within its deadline, in < 200 MB RSS', async () => {
    // Size caps with the default patience (so that a loaded machine cannot turn them into timeouts), the
    // deadlines with a short one.
    const cases: [string, Partial<FakeHubOptions>, string, RegExp][] = [
      [
        'endless body after a 1 000-byte announcement',
        { endless: ['pytorch_model.bin'] },
        '30',
        /sent more than the announced 1000 bytes/,
      ],
      [
        'endless API listing',
        { listing: { endless: true } },
        '30',
        /sent more than 16777216 bytes for the file listing/,
      ],
      ['dripping body', { drip: { file: 'pytorch_model.bin', everyMs: 300 } }, '1', /did not deliver it within 2\.0 s/],
      ['dripping listing', { listing: { dripMs: 200 } }, '1', /did not finish sending the file listing .* within 1 s/],
      ['config.json announced as 1 GiB', { announce: { 'config.json': 2 ** 30 } }, '30', /announces 1 GiB, more than/],
      [
        'vocab.txt with no size, endless',
        { unsized: ['vocab.txt'], endless: ['vocab.txt'] },
        '30',
        /sent more than the allowed 67108864 bytes/,
      ],
    ];
    const rows: Figure[] = [];
    for (const [what, opts, timeout, message] of cases) {
      const h = await hub(opts);
      const r = await sbertMeasured(['download', ID, '--dir', join(tmp, what.replace(/\W+/g, '-'))], {
        env: { HF_ENDPOINT: h.url, SBERT_HUB_TIMEOUT: timeout },
        cwd: tmp,
        timeoutMs: 60_000,
      });
      rows.push({ what, ms: r.ms, rssMiB: r.rssMiB });
      expect(r.hung, what).toBe(false);
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(errorLine(r), what).toMatch(message);
      expect(r.rssMiB!, what).toBeLessThan(200);
      await h.close();
      hubs.splice(hubs.indexOf(h), 1);
    }
    report('sbert download against hostile servers (wall time, peak RSS):', rows);
    report('downloadModel against hostile servers (in process):', figures);
  });
});
