// The hostile-input suite (issue 14), loader side: every generated case (malformed-hostile-cases.ts) ends in one
// typed error naming the right file (or, for a control, loads), with bounded memory, and none hangs. The cases
// run in child processes, one per kind, behind an idle guard (a case that blocks, such as a FIFO opened for
// reading, gets the child killed and is named). Times are measured and reported, never asserted.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnprintable } from '../../src/errors.js';
import { errorLine } from '../cli.js';
import { fixture, ROOT } from '../fixtures.js';
import { type Figure, report, sbertMeasured } from '../measure.js';
import { scratch } from './helpers.js';
import { buildHostileCases, type HostileCase, type Kind } from './malformed-hostile-cases.js';

const root = scratch('hostile');
const RSS_LIMIT_MIB = 200;
/** A child that prints nothing for this long is stuck on a case. */
const IDLE_GUARD_MS = 30_000;

interface Outcome {
  i: number;
  ms: number;
  ok: boolean;
  typed?: boolean;
  exit?: number;
  message?: string;
}

interface KindRun {
  outcomes: Map<number, Outcome>;
  maxRssMiB?: number;
  /** The case running when the guard killed the child. */
  hung?: number;
}

/** Runs the cases of one kind in a child process (the build in dist/), guarded. */
function runKind(cases: HostileCase[], manifest: string): Promise<KindRun> {
  writeFileSync(manifest, JSON.stringify(cases.map(({ op, path, opts }) => ({ op, path, opts }))));
  return new Promise((resolve) => {
    // --expose-gc: the runner collects after each case, so the kind's peak is its worst case's, not its garbage's.
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(ROOT, 'test', 'loader', 'malformed-runner.mjs'), manifest],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const run: KindRun = { outcomes: new Map() };
    let started = -1;
    let buf = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), IDLE_GUARD_MS);
    child.stdout.on('data', (d: Buffer) => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), IDLE_GUARD_MS);
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Outcome & { start?: number; done?: boolean; maxRssKiB?: number };
        buf = buf.slice(nl + 1);
        if (line.start !== undefined) started = line.start;
        else if (line.done) run.maxRssMiB = line.maxRssKiB! / 1024;
        else run.outcomes.set(line.i, line);
      }
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') run.hung = started;
      resolve(run);
    });
  });
}

let cases: HostileCase[] = [];
const runs = new Map<Kind, { cases: HostileCase[]; run: KindRun }>();
let closeServers: () => Promise<void> = async () => {};

beforeAll(async () => {
  const built = await buildHostileCases(root);
  cases = built.cases;
  closeServers = async () => {
    await Promise.all(built.servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  };
  const kinds = [...new Set(cases.map((c) => c.kind))];
  for (const kind of kinds) {
    const mine = cases.filter((c) => c.kind === kind);
    runs.set(kind, { cases: mine, run: await runKind(mine, join(root, `manifest-${kind}.json`)) });
  }
}, 600_000);

afterAll(async () => {
  await closeServers();
});

describe('hostile inputs: loader (issue 14)', () => {
  it('has a generator of variants for every kind', () => {
    const count = (k: Kind) => cases.filter((c) => c.kind === k).length;
    console.log(
      `hostile loader cases: ${cases.length} (${[...runs.keys()].map((k) => `${k} ${count(k)}`).join(', ')})`,
    );
    expect(count('bomb')).toBeGreaterThanOrEqual(20);
    expect(count('json')).toBeGreaterThanOrEqual(6);
    expect(count('special')).toBeGreaterThanOrEqual(60);
    expect(count('nonfinite')).toBeGreaterThanOrEqual(48);
    expect(count('duplicate')).toBeGreaterThanOrEqual(10);
    expect(count('names')).toBeGreaterThanOrEqual(15);
    expect(count('lengths')).toBeGreaterThanOrEqual(10);
    expect(count('index')).toBeGreaterThanOrEqual(8);
    expect(count('settings')).toBeGreaterThanOrEqual(50);
    expect(count('slots')).toBeGreaterThanOrEqual(8);
  });

  it('no case hangs, and each kind runs in < 200 MB RSS', () => {
    const hung = [...runs.values()].filter((r) => r.run.hung !== undefined).map((r) => r.cases[r.run.hung!]!.what);
    expect(hung).toEqual([]);
    for (const [kind, { run }] of runs) {
      expect(run.maxRssMiB, `${kind}: child did not finish`).toBeDefined();
      expect(run.maxRssMiB!, kind).toBeLessThan(RSS_LIMIT_MIB);
    }
  });

  it('each case is one typed error naming its file (exit 2), or loads if it is a control', () => {
    const failures: string[] = [];
    const figures: Figure[] = [];
    for (const [kind, { cases: mine, run }] of runs) {
      mine.forEach((c, i) => {
        const o = run.outcomes.get(i);
        const tag = `${kind}: ${c.what}`;
        if (!o) return void failures.push(`${tag}: no outcome`);
        figures.push({ what: tag, ms: o.ms });
        if (c.ok) {
          if (!o.ok) failures.push(`${tag}: control failed: ${o.message}`);
          return;
        }
        if (o.ok) return void failures.push(`${tag}: no error`);
        const msg = o.message ?? '';
        const file = c.names ?? c.path;
        if (!o.typed || o.exit !== 2) failures.push(`${tag}: untyped or exit ${o.exit}: ${msg}`);
        else if (!msg.startsWith(`${file}: `)) failures.push(`${tag}: does not start with ${file}: "${msg}"`);
        else if (msg.includes('\n') || /undefined|\[object|function /.test(msg))
          failures.push(`${tag}: unclear "${msg}"`);
        else if (c.message && !c.message.test(msg)) failures.push(`${tag}: "${msg}" does not match ${c.message}`);
      });
    }
    expect(failures).toEqual([]);
    // Reported, not asserted: the slowest cases and each kind's slowest, peak RSS per kind.
    figures.sort((a, b) => b.ms - a.ms);
    report('hostile loader cases, slowest 12 (in-process times, ms):', figures.slice(0, 12));
    report(
      "hostile loader cases per kind (slowest case, peak RSS of the kind's child):",
      [...runs].map(([kind, { run }]) => ({
        what: kind,
        ms: Math.max(...[...run.outcomes.values()].map((o) => o.ms)),
        rssMiB: run.maxRssMiB,
      })),
    );
  });

  // The promised CLI behaviour, end to end, for instances of every kind: one `error: FILE: problem` line and
  // exit 2, in < 200 MB RSS, measured in the child.
  const cliPicks: [Kind, string][] = [
    ['bomb', 'data.pkl declares and inflates to 2 GiB'],
    ['bomb', 'byteorder declares and inflates to 2 GiB'],
    ['bomb', 'a deflated 2044 MiB storage viewed by a [40, 8] tensor'],
    ['bomb', 'a folder whose word embedding is a real 2 GiB deflated view'],
    ['bomb', 'safetensors header: 10^6 zero-size entries'],
    ['bomb', 'safetensors header: 250 000 zero-size entries in 14 MB'],
    ['bomb', 'config.json: num_hidden_layers 10^6'],
    ['special', 'model.safetensors is a FIFO'],
    ['special', 'config.json is a FIFO'],
    ['special', 'config.json is a link to /dev/zero'],
    ['special', 'sentence_bert_config.json is a Unix socket'],
    ['special', 'config.json of 17 MiB'],
    ['nonfinite', 'safetensors, F16: NaN in embeddings.LayerNorm.weight'],
    ['duplicate', 'torch zip: a second archive/data/0'],
    ['duplicate', 'torch zip: a second data.pkl'],
    ['names', 'pooling_mode "constructor"'],
    ['names', 'pooling_mode "__proto__"'],
    ['lengths', 'sentence_bert_config.json max_seq_length 0'],
    ['index', 'an index naming itself'],
    // check14's variants
    ['json', 'config.json: 4 million nested arrays'],
    ['json', 'config.json: 700 000 keys'],
    ['special', 'config.json: a link to a token file (its content is never quoted)'],
    ['names', 'modules.json: a Dense module'],
    ['names', 'pooling_mode_cls_token "yes"'],
    ['index', 'a shard name with an escape sequence'],
  ];
  it('sbert inspect: one error line and exit 2 for instances of every kind, < 200 MB RSS', async () => {
    const figures: Figure[] = [];
    const failures: string[] = [];
    for (const [kind, what] of cliPicks) {
      const c = cases.find((x) => x.kind === kind && x.what === what);
      expect(c, `${kind}: ${what}`).toBeDefined();
      const r = await sbertMeasured(['inspect', c!.path], { timeoutMs: 60_000 });
      figures.push({ what: `${kind}: ${what}`, ms: r.ms, rssMiB: r.rssMiB });
      if (r.hung) failures.push(`${what}: hung`);
      else if (r.code !== 2) failures.push(`${what}: exit ${r.code}: ${r.stderr}`);
      else if (!errorLine(r).startsWith(`error: ${c!.names ?? c!.path}: `)) failures.push(`${what}: ${r.stderr}`);
      else if (!(r.rssMiB! < RSS_LIMIT_MIB)) failures.push(`${what}: ${r.rssMiB} MiB`);
      if (r.stdout !== '') failures.push(`${what}: stdout ${r.stdout.slice(0, 80)}`);
      // Nothing read from a file reaches the terminal raw: no control character but the final line break.
      if ([...r.stderr].some((c) => c !== '\n' && isUnprintable(c.charCodeAt(0))))
        failures.push(`${what}: control character in ${r.stderr}`);
      if (r.stderr.includes('SeCrEt')) failures.push(`${what}: printed the linked file: ${r.stderr}`);
    }
    report('sbert inspect on hostile inputs (wall time of the child, peak RSS):', figures);
    expect(failures).toEqual([]);
  });
});

describe('hostile inputs: special files given to the CLI (issue 14)', () => {
  it('--input, --data, --corpus, --reference, --config: a device, socket or folder is named and refused, never read', async () => {
    const fifo = join(root, 'input.fifo');
    execFileSync('mkfifo', [fifo]);
    const sock = join(root, 'input.sock');
    const server = createServer();
    await new Promise<void>((ok) => server.listen(sock, ok));
    const model = fixture('tiny', 'st');
    const runs: [string, string[], string, RegExp][] = [
      [
        'encode --input /dev/zero',
        ['encode', '--model', model, '--input', '/dev/zero'],
        '/dev/zero',
        /is a character device, expected a regular file/,
      ],
      [
        'encode --input a folder',
        ['encode', '--model', model, '--input', root],
        root,
        /is a directory, expected a text file/,
      ],
      [
        'encode --input a socket',
        ['encode', '--model', model, '--input', sock],
        sock,
        /is a socket, expected a regular file/,
      ],
      [
        'evaluate --data /dev/urandom',
        ['evaluate', '--model', model, '--data', '/dev/urandom'],
        '/dev/urandom',
        /is a character device/,
      ],
      [
        'search --corpus /dev/zero',
        ['search', '--model', model, '--corpus', '/dev/zero', 'q'],
        '/dev/zero',
        /is a character device/,
      ],
      [
        'compare --reference FIFO',
        ['compare', '--model', model, '--reference', fifo],
        fifo,
        /is a FIFO \(named pipe\)/,
      ],
      [
        'synth --config /dev/zero',
        ['synth', '--config', '/dev/zero', '--out', join(root, 'synth-out')],
        '/dev/zero',
        /is a character device/,
      ],
      ['inspect FIFO', ['inspect', fifo], fifo, /is a FIFO \(named pipe\)/],
    ];
    const figures: Figure[] = [];
    for (const [what, args, file, message] of runs) {
      const r = await sbertMeasured(args, { timeoutMs: 60_000 });
      figures.push({ what, ms: r.ms, rssMiB: r.rssMiB });
      expect(r.hung, what).toBe(false);
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      const line = errorLine(r);
      expect(line.startsWith(`error: ${file}: `), `${what}: ${line}`).toBe(true);
      expect(line, what).toMatch(message);
      expect(r.rssMiB!, what).toBeLessThan(RSS_LIMIT_MIB);
    }
    // A pipe a shell hands over (`--input <(cmd)`) is the user's stream, read like stdin.
    const piped = join(root, 'piped.fifo');
    execFileSync('mkfifo', [piped]);
    const writer = spawn('sh', ['-c', `printf '那个人很开心\\n' > '${piped}'`]);
    const ok = await sbertMeasured(['encode', '--model', model, '--input', piped], { timeoutMs: 60_000 });
    writer.kill();
    figures.push({ what: 'encode --input a pipe with a writer', ms: ok.ms, rssMiB: ok.rssMiB });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    // A font that is a device is passed over, not read: the picture is still drawn.
    const png = join(root, 'a.png');
    const font = await sbertMeasured(['attention', '--model', model, '你好', '--out', png], {
      env: { SBERT_CJK_FONT: '/dev/zero' },
      timeoutMs: 60_000,
    });
    figures.push({ what: 'attention with SBERT_CJK_FONT=/dev/zero', ms: font.ms, rssMiB: font.rssMiB });
    expect(font.code, font.stderr).toBe(0);
    await new Promise<void>((ok) => server.close(() => ok()));
    report('special files given to the CLI (wall time, peak RSS):', figures);
  });
});
