// What a new user meets first (issue #16 §2): output paths that cannot be written, inputs that are not text,
// everything checked before the weights load, messages true to the case, and a library user's own errors.
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile, execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultBackendExtraRssMiB, errorLine, sbert } from '../cli.js';
import { fixture, ROOT } from '../fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'sbert-first-use-'));
const TINY = fixture('tiny', 'st');
const missingDir = join(tmp, 'no', 'such', 'dir');

/** A copy of tiny/hf whose weights file is garbage: a command that reads the weights fails on it. */
function brokenWeights(withTokenizer: boolean): string {
  const dir = join(tmp, `broken-${withTokenizer ? 'tok' : 'notok'}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  copyFileSync(fixture('tiny', 'hf', 'config.json'), join(dir, 'config.json'));
  writeFileSync(join(dir, 'model.safetensors'), 'this is not a safetensors file');
  if (withTokenizer)
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(fixture('tiny', 'hf', f), join(dir, f));
  return dir;
}

/** Files in `dir` (the temporary `.partial` ones would show here). */
const listing = (dir: string): string[] => readdirSync(dir).sort();

describe('every output path: one error line naming it, exit 2, never a partial file', () => {
  const cases: [string, (out: string) => string[]][] = [
    ['encode --output', (out) => ['encode', '--model', TINY, '--output', out]],
    ['encode --format npy --output', (out) => ['encode', '--model', TINY, '--format', 'npy', '--output', out]],
    ['dump --out', (out) => ['dump', '--model', TINY, '--out', out, '那个人']],
    ['attention --out', (out) => ['attention', '--model', TINY, '--out', out, '那个人']],
  ];
  for (const [what, args] of cases) {
    it(`${what} into a missing folder; onto a folder`, async () => {
      const ext = what.startsWith('dump') ? 'safetensors' : what.startsWith('attention') ? 'png' : 'out';
      const out = join(missingDir, `x.${ext}`);
      const r = await sbert(args(out), { input: '那个人\n' });
      expect([r.code, errorLine(r)]).toEqual([2, `error: ${out}: cannot write: no such folder ${missingDir}`]);
      const dirOut = join(tmp, `folder.${ext}`);
      mkdirSync(dirOut, { recursive: true });
      const d = await sbert(args(dirOut), { input: '那个人\n' });
      expect([d.code, errorLine(d)]).toEqual([2, `error: ${dirOut}: is a folder, expected a file name`]);
    });
  }

  it('synth --out onto a file; into a folder it cannot create', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = await sbert(['synth', '--config', fixture('tiny', 'hf', 'config.json'), '--out', file]);
    expect([r.code, errorLine(r)]).toEqual([2, `error: ${file}: exists and is not a folder`]);
    const under = join(file, 'sub');
    const u = await sbert(['synth', '--config', fixture('tiny', 'hf', 'config.json'), '--out', under]);
    expect([u.code, errorLine(u)]).toEqual([2, `error: ${under}: cannot write: ${file} is not a folder`]);
  });

  it('a run that fails after it started writing leaves no file, and an existing one as it was', async () => {
    const dir = mkdtempSync(join(tmp, 'partial-'));
    const out = join(dir, 'out.jsonl');
    // 3 000 good lines (past the first 2 048-sentence chunk, which is written), then one that is not JSON
    const input = `${Array.from({ length: 3000 }, (_, i) => JSON.stringify(`句子${i}`)).join('\n')}\n{oops\n`;
    const r = await sbert(['encode', '--model', TINY, '--input-format', 'jsonl', '--output', out], { input });
    expect([r.code, errorLine(r)]).toEqual([2, 'error: <stdin>: line 3001: not valid JSON']);
    expect(listing(dir)).toEqual([]);
    writeFileSync(out, 'old\n');
    const again = await sbert(['encode', '--model', TINY, '--input-format', 'jsonl', '--output', out], { input });
    expect(again.code).toBe(2);
    expect(listing(dir)).toEqual(['out.jsonl']);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
    // empty input: an error, and still no empty file
    const npy = join(dir, 'empty.npy');
    const e = await sbert(['encode', '--model', TINY, '--format', 'npy', '--output', npy], { input: '' });
    expect([e.code, errorLine(e)]).toEqual([2, 'error: <stdin>: no sentences to encode (empty input)']);
    expect(listing(dir)).toEqual(['out.jsonl']);
    // and a good run replaces the file whole
    const ok = await sbert(['encode', '--model', TINY, '--output', out], { input: '那个人\n你好\n' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(listing(dir)).toEqual(['out.jsonl']);
  });

  // Issue 14 variant (special files, output side): the write-then-rename put a regular file in place of a FIFO
  // or of a link such as /dev/stdout (→ /proc/self/fd/1); as root, `--output /dev/null` would have replaced
  // the device for everyone. Tested on a FIFO and links in a temporary folder, never on /dev itself.
  it('--output a FIFO or a link to a pipe is written in place; a link to a file writes the file and stays a link', async () => {
    const dir = mkdtempSync(join(tmp, 'special-'));
    const expected = (await sbert(['encode', '--model', TINY], { input: '那个人\n' })).stdout;
    // a FIFO, read by another process
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    let cat: ReturnType<typeof execFile> | undefined;
    const reader = new Promise<string>((ok, fail) => {
      cat = execFile('cat', [fifo], (e, stdout) => (e ? fail(e) : ok(stdout)));
    });
    const r = await sbert(['encode', '--model', TINY, '--output', fifo], { input: '那个人\n' });
    // Replaced by a file, the FIFO would never be written: end the reader rather than wait on it.
    const stillFifo = lstatSync(fifo).isFIFO();
    if (!stillFifo) cat?.kill();
    expect(stillFifo).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(await reader).toBe(expected);
    // a link to a pipe, as /dev/stdout is (→ /proc/self/fd/1; the test's own stdout is a socket, which Linux
    // does not reopen, so a FIFO stands in for the pipe)
    const toPipe = join(dir, 'stdout');
    symlinkSync(fifo, toPipe);
    const reader2 = new Promise<string>((ok, fail) => {
      cat = execFile('cat', [fifo], (e, stdout) => (e ? fail(e) : ok(stdout)));
    });
    const s = await sbert(['encode', '--model', TINY, '--output', toPipe], { input: '那个人\n' });
    const stillLink = lstatSync(toPipe).isSymbolicLink() && lstatSync(fifo).isFIFO();
    if (!stillLink) cat?.kill();
    expect(stillLink).toBe(true);
    expect(s.code, s.stderr).toBe(0);
    expect(await reader2).toBe(expected);
    // a link to a regular file: the file gets the output, the link stays
    const target = join(dir, 'target.jsonl');
    writeFileSync(target, 'old\n');
    const link = join(dir, 'link.jsonl');
    symlinkSync(target, link);
    const l = await sbert(['encode', '--model', TINY, '--output', link], { input: '那个人\n' });
    expect(l.code, l.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(expected);
    expect(listing(dir)).toEqual(['link.jsonl', 'out.fifo', 'stdout', 'target.jsonl']);
  });
});

describe('inputs are checked before the weights load', () => {
  // A weights file that fails to parse proves the order: a check that came after loading would report it instead.
  it('a missing --input, a folder as --input, a folder without a tokenizer', async () => {
    const broken = brokenWeights(true);
    const weightsError = await sbert(['encode', '--model', broken], { input: 'x\n' });
    expect([weightsError.code, errorLine(weightsError)]).toEqual([2, expect.stringMatching(/model\.safetensors/)]);
    const input = join(tmp, 'no-such-input.txt');
    for (const cmd of [
      ['encode', '--input', input],
      ['tokenize', '--input', input],
      ['dump', '--out', join(tmp, 'd.safetensors'), '--input', input],
    ]) {
      const r = await sbert([...cmd, '--model', broken]);
      expect([r.code, errorLine(r)], cmd[0]).toEqual([2, `error: ${input}: no such file`]);
    }
    const folder = await sbert(['encode', '--model', broken, '--input', tmp]);
    expect([folder.code, errorLine(folder)]).toEqual([2, `error: ${tmp}: is a directory, expected a text file`]);
    const noTok = brokenWeights(false);
    for (const cmd of [
      ['encode'],
      ['similarity', 'a', 'b'],
      ['attention', '--out', join(tmp, 'a.png'), 'a'],
      ['dump', '--out', join(tmp, 'd.safetensors'), 'a'],
    ]) {
      const r = await sbert([...cmd, '--model', noTok], { input: 'x\n' });
      expect([r.code, errorLine(r)], cmd[0]).toEqual([
        2,
        `error: ${noTok}: no tokenizer.json, sentencepiece.bpe.model or vocab.txt in the model folder`,
      ]);
    }
  });

  it('--model with a weights file names the folder to pass', async () => {
    const file = fixture('tiny', 'hf', 'model.safetensors');
    for (const cmd of [['encode'], ['tokenize']]) {
      const r = await sbert([...cmd, '--model', file], { input: '"x"\n' });
      expect([r.code, errorLine(r)], cmd[0]).toEqual([
        2,
        `error: ${file}: is a file; --model takes the folder that holds the model's files (${fixture('tiny', 'hf')})`,
      ]);
    }
  });

  it('a gzip, binary or UTF-16 file is refused by its first bytes, as a file or on stdin', async () => {
    const text = '那个人很开心\n你好\n';
    const files: [string, Buffer, string][] = [
      [
        'in.txt.gz',
        gzipSync(text),
        'is a gzip-compressed file, not UTF-8 text; decompress it first (e.g. gunzip -c FILE | sbert ...)',
      ],
      [
        'in.bin',
        Buffer.from([0x61, 0x62, 0x00, 0x01, 0x0a]),
        'is a binary file, not UTF-8 text (a NUL byte at byte 2)',
      ],
      [
        'in.utf16',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
        'is UTF-16 text (little-endian BOM) file, not UTF-8 text',
      ],
    ];
    for (const [name, bytes, why] of files) {
      const file = join(tmp, name);
      writeFileSync(file, bytes);
      const r = await sbert(['encode', '--model', brokenWeights(true), '--input', file]);
      expect([r.code, errorLine(r)], name).toEqual([2, `error: ${file}: ${why}`]);
      const s = await sbert(['tokenize', '--model', TINY, '--input-format', 'lines'], { input: bytes });
      expect([s.code, errorLine(s)], name).toEqual([2, `error: <stdin>: ${why}`]);
    }
  });
});

describe('invalid UTF-8 is an error naming the input and the line, in every command that reads text', () => {
  const good = '那个人很开心\n你好\n';
  const bad = Buffer.concat([
    Buffer.from('那个人很开心\n你好\nab'),
    Buffer.from([0xe4, 0xb8]),
    Buffer.from('\n再见\n'),
  ]);
  const file = join(tmp, 'bad-utf8.txt');
  writeFileSync(file, bad);
  const tsv = join(tmp, 'bad-utf8.tsv');
  writeFileSync(tsv, Buffer.concat([Buffer.from('a\tb\t1\nc\td\t2\n'), Buffer.from([0xff]), Buffer.from('\te\t3\n')]));
  const why = 'line 3: not valid UTF-8 (byte 0xe4 at byte 3 of the line)';
  const runs: [string, string[], Buffer | undefined, string][] = [
    ['encode, stdin', ['encode', '--model', TINY], bad, `<stdin>: ${why}`],
    ['encode --input', ['encode', '--model', TINY, '--input', file], undefined, `${file}: ${why}`],
    [
      'encode --input-format jsonl',
      ['encode', '--model', TINY, '--input-format', 'jsonl'],
      Buffer.concat([Buffer.from('"a"\n"b"\n"'), Buffer.from([0xc3]), Buffer.from('"\n')]),
      '<stdin>: line 3: not valid UTF-8 (byte 0xc3 at byte 2 of the line)',
    ],
    ['tokenize --input-format lines', ['tokenize', '--model', TINY, '--input-format', 'lines'], bad, `<stdin>: ${why}`],
    [
      'tokenize --input',
      ['tokenize', '--model', TINY, '--input-format', 'lines', '--input', file],
      undefined,
      `${file}: ${why}`,
    ],
    ['dump', ['dump', '--model', TINY, '--out', join(tmp, 'u.safetensors')], bad, `<stdin>: ${why}`],
    ['search --corpus', ['search', '--model', TINY, '--corpus', file, '你好'], undefined, `${file}: ${why}`],
    [
      'evaluate --data',
      ['evaluate', '--model', TINY, '--data', tsv],
      undefined,
      `${tsv}: line 3: not valid UTF-8 (byte 0xff at byte 1 of the line)`,
    ],
  ];
  for (const [what, args, input, message] of runs) {
    it(what, async () => {
      const r = await sbert(args, { input, measureRss: true });
      expect([r.code, errorLine(r)]).toEqual([2, `error: ${message}`]);
      expect(r.maxRssMiB).toBeLessThan(200 + (await defaultBackendExtraRssMiB())); // + tfjs-node's libraries
    });
  }

  it('the same text as valid UTF-8 goes through', async () => {
    const r = await sbert(['tokenize', '--model', TINY, '--input-format', 'lines'], { input: good });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('messages true to the case', () => {
  it('--workers above the core count warns once, naming the cores', async () => {
    const over = availableParallelism() + 1;
    const r = await sbert(['encode', '--model', TINY, '--workers', String(over)], {
      input: '你好\n',
      env: { SBERT_QUIET: '0' },
    });
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toEqual([
      `sbert: warning: --workers ${over} is more than the ${availableParallelism()} cores here; each worker runs on one core with its own copy of the model, so the extra ones only compete (use --workers ${availableParallelism()} or fewer)`,
    ]);
    const ok = await sbert(['encode', '--model', TINY, '--workers', '1'], {
      input: '你好\n',
      env: { SBERT_QUIET: '0' },
    });
    expect(ok.stderr).not.toMatch(/warning/);
  });

  it('synth and attention say in one line what they wrote; counts of one are singular', async () => {
    const out = join(tmp, 'synth-out');
    const s = await sbert(['synth', '--config', fixture('tiny', 'hf', 'config.json'), '--out', out], {
      env: { SBERT_QUIET: '0' },
    });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(
      new RegExp(
        `^sbert: wrote ${join(out, 'model.safetensors')} and ${join(out, 'config.json')}: 37 tensors \\(f32, [\\d.]+ [KM]i?B\\), 2 layers × hidden 32\\n$`,
      ),
    );
    expect(listing(out)).toEqual(['config.json', 'model.safetensors']);
    const png = join(tmp, 'map.png');
    const a = await sbert(['attention', '--model', TINY, '--out', png, '--layer', '1', '--head', '0', '你'], {
      env: { SBERT_QUIET: '0' },
    });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr.split('\n').filter((l) => l.startsWith('sbert: wrote'))).toEqual([
      expect.stringMatching(
        new RegExp(`^sbert: wrote ${png}: a PNG heatmap of 1 map, 3 tokens \\([\\d.]+ [KM]i?B\\)$`),
      ),
    ]);
    const html = join(tmp, 'view.html');
    const h = await sbert(['attention', '--model', TINY, '--out', html, '你好'], { env: { SBERT_QUIET: '0' } });
    expect(h.stderr.split('\n').filter((l) => l.startsWith('sbert: wrote'))).toEqual([
      expect.stringMatching(/: an HTML head view of 2 layers × 4 heads, 4 tokens \(/),
    ]);
    const d = await sbert(
      ['dump', '--model', TINY, '--out', join(tmp, 'one.safetensors'), '--tensors', 'last_hidden_state', '你'],
      { env: { SBERT_QUIET: '0' } },
    );
    expect(d.stderr).toMatch(/sbert: wrote 1 tensor for 1 text × 3 tokens to /);
  });
});

describe('a library user’s own errors stay theirs (tfjs-wasm’s process-wide handlers are removed)', () => {
  const program = (end: string): string => {
    const file = join(tmp, `user-${end.length}.mjs`);
    writeFileSync(
      file,
      `import { SentenceEncoder } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'index.js'))};\n` +
        `const enc = await SentenceEncoder.load(${JSON.stringify(TINY)}, { backend: 'wasm', quiet: true });\n` +
        `await enc.encode(['你好']);\nawait enc.dispose();\n` +
        `console.log('listeners', process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection'));\n${end}\n`,
    );
    return file;
  };
  const run = (file: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [file], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });

  it('a throw after encoding: the program’s error and exit code 1, not tf-backend-wasm.node.js and 7', async () => {
    const r = await run(program("throw new Error('the caller’s own error');"));
    expect(r.stdout).toBe('listeners 0 0\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error: the caller’s own error\n\s+at file:.*user-/);
    expect(r.stderr).not.toMatch(/tf-backend-wasm/);
  });

  it('an unhandled rejection, and a process.exitCode of the program’s own', async () => {
    const r = await run(program("Promise.reject(new Error('rejected by the caller'));"));
    expect([r.code, r.stderr.includes('rejected by the caller'), /tf-backend-wasm/.test(r.stderr)]).toEqual([
      1,
      true,
      false,
    ]);
    const c = await run(program('process.exitCode = 5;'));
    expect(c.code).toBe(5);
  });
});
