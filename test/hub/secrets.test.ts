// HF_TOKEN goes to the endpoint's exact origin (scheme, host, port) and nowhere else: against two fake hubs,
// every assertion is on the second server's request log. Variants: other ports, other hosts, a port whose
// digits extend the endpoint's (a prefix check would leak), protocol-relative and relative redirects, chains
// that leave and come back, other schemes, credentials in URLs, loops; and the token is never printed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel } from '../../src/hub/download.js';
import { HubError } from '../../src/hub/errors.js';
import { errorLine } from '../cli.js';
import { fixture } from '../fixtures.js';
import { sbertMeasured } from '../measure.js';
import { FakeHub, type FakeHubOptions, type FakeRepo, prefixPair } from './fake-hub.js';

const ID = 'me/private';
const TOKEN = 'hf_SeCrEt0123456789abcdef';

function repo(): FakeRepo {
  const read = (d: string, f: string) => readFileSync(fixture('tiny', d, f));
  return {
    token: TOKEN,
    files: {
      'config.json': read('uer-converted', 'config.json'),
      'pytorch_model.bin': read('uer-converted', 'pytorch_model.bin'),
      'vocab.txt': read('uer-converted', 'vocab.txt'),
    },
  };
}

let tmp: string;
const hubs: FakeHub[] = [];
async function hub(opts: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  const h = await new FakeHub({ repos: { [ID]: repo() }, ...opts }).start();
  hubs.push(h);
  return h;
}
/** B serves the same repository without asking for a token (a CDN, or an attacker's server). */
const open = (): Partial<FakeHubOptions> => ({ repos: { [ID]: { files: repo().files } } });

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sbert-secrets-'));
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  rmSync(tmp, { recursive: true, force: true });
});

/** The token reached A (so the test exercises authentication) and never B. */
function expectOnlyA(a: FakeHub, b: FakeHub): void {
  expect(a.withToken().length).toBeGreaterThan(0);
  for (const r of a.withToken()) expect(r.authorization).toBe(`Bearer ${TOKEN}`);
  expect(b.requests.length, 'B was asked').toBeGreaterThan(0);
  expect(b.withToken(), 'token seen by B').toEqual([]);
}

describe("HF_TOKEN stays with the endpoint's origin", () => {
  it('LFS redirect to a CDN on another port: the CDN never sees it', async () => {
    const b = await hub(open());
    const a = await hub({ cdn: () => b.url });
    await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') });
    expectOnlyA(a, b);
    expect(b.bodyGets().map((r) => r.path)).toEqual([`/cdn/${ID}/pytorch_model.bin`]);
  });

  it('LFS redirect to another host (127.0.0.2, same port numbers irrelevant)', async () => {
    const b = await hub({ ...open(), host: '127.0.0.2' });
    const a = await hub({ cdn: () => b.url });
    await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') });
    expectOnlyA(a, b);
  });

  it("a server whose URL starts with the endpoint's (port P·10 + d): a prefix check would leak, the origin check does not", async () => {
    const [a, b] = await prefixPair({ repos: { [ID]: repo() } }, open() as FakeHubOptions);
    hubs.push(a, b);
    expect(b.url.startsWith(a.url)).toBe(true);
    // A sends every file (HEAD and GET) to B, by absolute URL, without the LFS headers.
    a.opts.redirect = ({ path }) => (path.includes('/resolve/') ? { location: `${b.url}${path}` } : undefined);
    await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') });
    expectOnlyA(a, b);
    expect(b.requests.some((r) => r.method === 'HEAD')).toBe(true);
  });

  it('a protocol-relative redirect (//host:port/...) leaves the origin; a relative one stays', async () => {
    const b = await hub({ ...open(), host: '127.0.0.2' });
    const a = await hub();
    const host = new URL(b.url).host;
    // A renamed repository: /old/name/... answers a relative redirect to the new name, except vocab.txt,
    // which goes to B by a protocol-relative URL.
    a.opts.redirect = ({ path }) => {
      if (!path.startsWith('/old/name/')) return undefined;
      const moved = path.replace('/old/name/', `/${ID}/`);
      return path.endsWith('/vocab.txt') ? { location: `//${host}${moved}` } : { status: 301, location: moved };
    };
    const res = await downloadModel('old/name', { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') });
    expect([...res.files].sort()).toEqual(['config.json', 'pytorch_model.bin', 'vocab.txt']);
    // After the relative redirect A still got the token (the private repository answers only with it)...
    expect(a.withToken().some((r) => r.path.startsWith(`/${ID}/resolve/`))).toBe(true);
    // ... and B, reached by the protocol-relative one, never did.
    expectOnlyA(a, b);
  });

  it('a chain that leaves the origin and comes back does not carry the token back', async () => {
    const b = await hub(open());
    const a = await hub();
    // A's LFS redirect goes to B's /bounce/..., which sends the client back to A's /cdn/....
    a.opts.cdn = () => `${b.url}/bounce`;
    b.opts.redirect = ({ path }) =>
      path.startsWith('/bounce/') ? { location: `${a.url}${path.slice('/bounce'.length)}` } : undefined;
    await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') });
    expectOnlyA(a, b);
    const back = a.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(back.length).toBeGreaterThan(0);
    for (const r of back) expect(r.authorization).toBeUndefined();
  });

  it('redirects to other schemes or with credentials in the URL are refused, and nothing reaches B', async () => {
    const b = await hub(open());
    for (const location of [
      'ftp://127.0.0.1/x',
      'file:///etc/passwd',
      'data:text/plain,hello',
      `http://user:${TOKEN}@${new URL(b.url).host}/cdn/${ID}/pytorch_model.bin`,
      `http://user:pw@${new URL(b.url).host}/cdn/${ID}/pytorch_model.bin`,
    ]) {
      const a = await hub({ redirect: ({ path }) => (path.endsWith('pytorch_model.bin') ? { location } : undefined) });
      const err = (await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(err, location).toBeInstanceOf(HubError);
      expect(err.message, location).toMatch(
        /not an http\(s\) URL; refused|with a user name or password in it \(.*\*\*\*.*\); refused/,
      );
      expect(err.message).not.toContain(TOKEN);
      expect(err.message).not.toContain(':pw@');
    }
    expect(b.requests).toEqual([]);
  });

  it('a redirect to https on B (another scheme and origin): B never receives an HTTP request, let alone the token', async () => {
    const b = await hub(open());
    const a = await hub({
      redirect: ({ path }) =>
        path.endsWith('pytorch_model.bin') && path.includes('/resolve/')
          ? { location: `https://${new URL(b.url).host}/cdn/${ID}/pytorch_model.bin` }
          : undefined,
    });
    const err = await downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm'), retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubError);
    expect(b.requests).toEqual([]);
  });

  it('a redirect loop ends in one clear error', async () => {
    const a = await hub();
    a.opts.redirect = ({ path }) => (path.includes('/resolve/') ? { location: path } : undefined);
    await expect(downloadModel(ID, { endpoint: a.url, token: TOKEN, dir: join(tmp, 'm') })).rejects.toThrow(
      /more than 10 redirects from /,
    );
  });

  it("sbert download: the token is seen only by the endpoint's origin, and never printed", async () => {
    const b = await hub(open());
    const a = await hub({ cdn: () => b.url });
    const dir = join(tmp, 'cli');
    const ok = await sbertMeasured(['download', ID, '--dir', dir], {
      env: { HF_ENDPOINT: a.url, HF_TOKEN: TOKEN },
      cwd: tmp,
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(
      readFileSync(join(dir, 'pytorch_model.bin')).equals(
        readFileSync(fixture('tiny', 'uer-converted', 'pytorch_model.bin')),
      ),
    ).toBe(true);
    expectOnlyA(a, b);
    expect(ok.stdout).not.toContain(TOKEN);
    expect(ok.rssMiB!).toBeLessThan(200);
    // Failures print no token either, even with SBERT_DEBUG's stack trace.
    const rejected = await sbertMeasured(['download', ID, '--dir', join(tmp, 'x')], {
      env: { HF_ENDPOINT: a.url, HF_TOKEN: `${TOKEN}x`, SBERT_DEBUG: '1' },
      cwd: tmp,
    });
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain('rejected HF_TOKEN (HTTP 401)');
    expect(rejected.stderr).not.toContain(TOKEN);
    const creds = await sbertMeasured(['download', ID], {
      env: { HF_ENDPOINT: `http://me:${TOKEN}@127.0.0.1:1`, HF_TOKEN: TOKEN },
      cwd: tmp,
    });
    expect(creds.code).toBe(1);
    expect(errorLine(creds)).toMatch(
      /^error: HF_ENDPOINT="http:\/\/\*\*\*@127\.0\.0\.1:1\/" carries a user name or password/,
    );
    expect(creds.stderr).not.toContain(TOKEN);
  });

  // Issue 14 variant: a token no header can carry made fetch throw `Headers.set: "Bearer <token>..." is an
  // invalid header value`, printed as the error line (the token's first line on stderr).
  it('a token with a line break, control or non-ASCII character is refused by position, never printed or sent', async () => {
    const a = await hub();
    for (const [bad, what, at] of [
      [`${TOKEN}\nX-Extra: 1`, 'a line break', TOKEN.length + 1],
      [`${TOKEN.slice(0, 6)}\r\n${TOKEN.slice(6)}`, 'a line break', 7],
      [`${TOKEN}\u0000`, 'a control character', TOKEN.length + 1],
      [`${TOKEN}\u00e9`, 'a non-ASCII character', TOKEN.length + 1],
      [`${TOKEN.slice(0, 4)}中${TOKEN.slice(4)}`, 'a non-ASCII character', 5],
    ] as const) {
      const err = (await downloadModel(ID, { endpoint: a.url, token: bad, dir: join(tmp, 'm') }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(err.message).toBe(
        `HF_TOKEN holds ${what} at position ${at}, which an HTTP header cannot carry; set it to the token alone (it is not printed)`,
      );
      expect(err.name).toBe('UsageError');
    }
    const r = await sbertMeasured(['download', ID, '--dir', join(tmp, 'cli')], {
      env: { HF_ENDPOINT: a.url, HF_TOKEN: `${TOKEN}\nnext` },
      cwd: tmp,
    });
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(
      `error: HF_TOKEN holds a line break at position ${TOKEN.length + 1}, which an HTTP header cannot carry; set it to the token alone (it is not printed)`,
    );
    expect(r.stderr).not.toContain(TOKEN.slice(0, 8));
    expect(a.requests).toEqual([]);
    // Whitespace around the token (a file read with its line break) is dropped, as huggingface_hub does.
    await downloadModel(ID, { endpoint: a.url, token: ` ${TOKEN}\r\n`, dir: join(tmp, 'ok') });
    expect(a.withToken().length).toBeGreaterThan(0);
    for (const q of a.withToken()) expect(q.authorization).toBe(`Bearer ${TOKEN}`);
  });
});
