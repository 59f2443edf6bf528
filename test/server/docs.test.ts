// Every example in docs/serve.md and the README's server section runs here and must show what the doc shows:
// `npx sbert serve ...` starts that server (on a free port), each curl command and the JS example run against
// it, and the output block after them is compared (JSON numbers to the precision printed, `…` eliding the
// rest of an array; an `http` block's status line, the headers it lists and its body). The container recipe and
// the Kubernetes manifests are checked for what holds without a cluster: their files exist, their commands
// start a server that turns ready, their probes, ports and volumes line up, the metrics they scale on exist.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fixture, ROOT } from '../fixtures.js';
import { get } from './helpers.js';
import { type ServeProcess, serve } from './spawn.js';

const run = promisify(execFile);
const DOC_URL = 'http://127.0.0.1:8080';
const TINY_ARG = '../shared/fixtures/tiny/st';

interface Block {
  lang: string;
  code: string;
  line: number;
  /** From an `<!-- example: NAME, run by ... -->` line above the fence (test/docs/snippets.ts's markers). */
  marker?: string;
}

/** The client examples this file runs (test/docs/examples.test.ts checks that their markers name this file). */
const RUN_HERE = ['serve-openai-client'];

function blocks(file: string, section?: RegExp): Block[] {
  const all = readFileSync(join(ROOT, file), 'utf8');
  let from = 0;
  let to = all.length;
  if (section) {
    from = all.search(section);
    if (from < 0) throw new Error(`${file}: no section ${section}`);
    const end = all.slice(from + 1).search(/^## /m);
    if (end >= 0) to = from + 1 + end;
  }
  const text = all.slice(from, to);
  const firstLine = all.slice(0, from).split('\n').length;
  const out: Block[] = [];
  const re = /^(?:<!--\s*example:\s*([\w-]+)[^\n]*-->\n)?```(\w*)[^\n]*\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const line = firstLine + text.slice(0, m.index).split('\n').length - (m[1] ? 0 : 1);
    out.push({ lang: m[2]!, code: m[3]!, line, marker: m[1] });
  }
  return out;
}

/** Shell lines, `\`-continuations joined. */
function commands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

// ---- output comparison ----------------------------------------------------------------------------------

const NUM = '\u0000num:';
const MORE = '\u2026';

/** The doc's JSON with every number kept as its printed text (for its precision) and `…` as a marker. */
function parseDocJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === MORE) {
      out += `"${MORE}"`;
    } else if (/[-\d]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i))!;
      out += JSON.stringify(NUM + m[0]);
      i += m[0].length - 1;
    } else {
      out += c;
    }
  }
  return JSON.parse(out);
}

/** Max abs difference between backends' vectors on the tiny model (see the README's agreement table). */
const BACKEND_TOL = 5e-6;

/**
 * The backend `auto` takes on this machine, as `sbert encode` reports it. The docs show `wasm`, what a machine
 * without tfjs-node runs; where tfjs-node is installed or built, a server started without `--backend` reports
 * `tensorflow` instead.
 */
let autoBackend: string | undefined;
function backendAutoTakes(): string {
  if (autoBackend) return autoBackend;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'sbert.js'), 'encode', '--model', fixture('tiny', 'st')], {
    input: '你好\n',
    encoding: 'utf8',
    env: { ...process.env, SBERT_QUIET: '0' },
  });
  const name = /^sbert: backend (\w+)/m.exec(r.stderr)?.[1];
  expect(name, r.stderr).toBeDefined();
  autoBackend = name!;
  return autoBackend;
}

/** Which backend the running doc server was started on: its `--backend`, else what `auto` takes here. */
let serverBackend: () => string = backendAutoTakes;

function matchJson(doc: unknown, actual: unknown, path = '$'): void {
  if (path === '$.backend' && doc === 'wasm') {
    expect(actual, path).toBe(serverBackend());
  } else if (typeof doc === 'string' && doc.startsWith(NUM)) {
    const printed = doc.slice(NUM.length);
    expect(typeof actual, path).toBe('number');
    const decimals = /\.(\d+)/.exec(printed.split(/[eE]/)[0]!)?.[1]?.length ?? 0;
    const exp = Number(/[eE]([+-]?\d+)/.exec(printed)?.[1] ?? 0);
    // Half a unit of the last printed digit, but never below what two backends may differ by on the tiny model
    // (wasm with and without a BLAS, cpu: ≤ 2.4e-6 against PyTorch), so the doc holds on whichever backend runs it.
    const printedTol = decimals === 0 && exp === 0 ? 0 : 0.5 * 10 ** (exp - decimals) * (1 + 1e-9);
    const tol = printedTol === 0 ? 0 : Math.max(printedTol, BACKEND_TOL);
    expect(Math.abs((actual as number) - Number(printed)), `${path}: ${actual} vs ${printed}`).toBeLessThanOrEqual(tol);
  } else if (Array.isArray(doc)) {
    expect(Array.isArray(actual), path).toBe(true);
    const a = actual as unknown[];
    const open = doc.at(-1) === MORE;
    const shown = open ? doc.slice(0, -1) : doc;
    if (open) expect(a.length, path).toBeGreaterThanOrEqual(shown.length);
    else expect(a.length, path).toBe(shown.length);
    shown.forEach((d, i) => matchJson(d, a[i], `${path}[${i}]`));
  } else if (doc !== null && typeof doc === 'object') {
    expect(actual !== null && typeof actual === 'object' && !Array.isArray(actual), path).toBe(true);
    const a = actual as Record<string, unknown>;
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(doc).sort());
    for (const [k, v] of Object.entries(doc)) matchJson(v, a[k], `${path}.${k}`);
  } else {
    expect(actual, path).toEqual(doc);
  }
}

function matchOutput(block: Block, stdout: string): void {
  const actual = stdout.replace(/\r\n/g, '\n');
  if (block.lang === 'json') return matchJson(parseDocJson(block.code), JSON.parse(actual));
  if (block.lang === 'text') return expect(actual.trim()).toBe(block.code.trim());
  if (block.lang === 'http') {
    const [docHead, docBody] = block.code.split(/\n\n/, 2) as [string, string | undefined];
    const cut = actual.indexOf('\n\n');
    const [head, body] = [actual.slice(0, cut), actual.slice(cut + 2)];
    const [docStatus, ...docHeaders] = docHead.split('\n');
    const [status, ...headers] = head.split('\n');
    expect(status).toBe(docStatus);
    const got = new Map(
      headers.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
    );
    for (const h of docHeaders)
      expect(got.get(h.slice(0, h.indexOf(':')).toLowerCase()), h).toBe(h.slice(h.indexOf(':') + 1).trim());
    if (docBody?.trim()) matchJson(parseDocJson(docBody), JSON.parse(body));
    return;
  }
  throw new Error(`line ${block.line}: an output block must be json, http or text, not "${block.lang}"`);
}

// ---- running the examples -------------------------------------------------------------------------------

const SERVE = /^((?:[A-Z_]+=\S+\s+)*)npx sbert serve(.*)$/;

async function startDocServer(command: string): Promise<ServeProcess> {
  const [, envPart, argPart] = SERVE.exec(command)!;
  const env = Object.fromEntries(
    envPart!
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((kv) => kv.split('=', 2) as [string, string]),
  );
  let args = argPart!.trim().split(/\s+/);
  // As written when the fixtures are beside the repo; elsewhere ($SBERT_FIXTURES) the same model and name.
  if (resolve(ROOT, TINY_ARG) !== fixture('tiny', 'st')) {
    args = [...args.map((a) => (a === TINY_ARG ? fixture('tiny', 'st') : a)), '--model-name', TINY_ARG];
  }
  const p = await serve(args, env);
  expect(p.url, p.stderr()).toMatch(/^http:/);
  const named = args.indexOf('--backend');
  serverBackend = named >= 0 && args[named + 1] !== 'auto' ? () => args[named + 1]! : backendAutoTakes;
  return p;
}

async function stop(p: ServeProcess | undefined): Promise<void> {
  if (!p) return;
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
}

async function runExamples(file: string, section?: RegExp): Promise<number> {
  const list = blocks(file, section);
  let server: ServeProcess | undefined;
  let checked = 0;
  try {
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      const next = list[i + 1];
      const output = next && ['json', 'http', 'text'].includes(next.lang) ? next : undefined;
      if (b.lang === 'sh') {
        const cmds = commands(b.code);
        for (const [k, cmd] of cmds.entries()) {
          if (SERVE.test(cmd)) {
            await stop(server);
            server = await startDocServer(cmd);
            continue;
          }
          expect(cmd, `${file}:${b.line}: an example must use ${DOC_URL}`).toContain(DOC_URL);
          expect(server, `${file}:${b.line}: no server started before this example`).toBeDefined();
          const { stdout } = await run('bash', ['-c', cmd.replaceAll(DOC_URL, server!.url)], {
            cwd: ROOT,
            maxBuffer: 1 << 26,
          });
          if (k === cmds.length - 1 && output) {
            matchOutput(output, stdout);
            checked++;
          }
        }
        if (output) i++;
      } else if (b.lang === 'js') {
        expect(RUN_HERE, `${file}:${b.line}: <!-- example: NAME, run by test/server/docs.test.ts -->`).toContain(
          b.marker,
        );
        expect(server, `${file}:${b.line}: no server started before this example`).toBeDefined();
        const { stdout } = await run(
          process.execPath,
          ['--input-type=module', '-e', b.code.replaceAll(DOC_URL, server!.url)],
          { cwd: ROOT },
        );
        expect(output, `${file}:${b.line}: the example's output block`).toBeDefined();
        matchOutput(output!, stdout);
        checked++;
        i++;
      } else if (['json', 'http', 'text'].includes(b.lang)) {
        throw new Error(`${file}:${b.line}: an output block with no example before it`);
      }
    }
  } finally {
    await stop(server);
  }
  return checked;
}

const hasCurl = spawnSync('curl', ['--version']).status === 0;
if (!hasCurl)
  process.stderr.write('docs.test: curl is not installed: the curl examples are skipped (.ci/run installs it)\n');

describe('docs/serve.md', () => {
  it.skipIf(!hasCurl)('every curl and client example shows what it prints', async () => {
    expect(await runExamples('docs/serve.md')).toBeGreaterThanOrEqual(9);
  });

  it.skipIf(!hasCurl)("the README's server section", async () => {
    expect(await runExamples('README.md', /^## Server\b/m)).toBeGreaterThanOrEqual(1);
  });

  describe('scale-out recipe', () => {
    const doc = blocks('docs/serve.md');
    const dockerfile = doc.find((b) => b.lang === 'dockerfile')!.code;
    const manifests = doc
      .filter((b) => b.lang === 'yaml')
      .flatMap((b) => parseAllDocuments(b.code).map((d) => d.toJS() as unknown));
    // biome-ignore lint/suspicious/noExplicitAny: parsed YAML; the assertions below are what check its shape
    type Obj = Record<string, any>;
    const kind = (k: string) => manifests.find((m) => (m as Obj)?.kind === k) as Obj;
    let server: ServeProcess | undefined;
    afterAll(async () => stop(server));

    it('Dockerfile: the files it copies, alone, build with its command; its runtime needs no dev dependency', async () => {
      const lines = dockerfile.split('\n');
      // The build stage's context: only what it copies (node_modules linked in place of `npm ci`).
      const context = mkdtempSync(join(tmpdir(), 'sbert-docker-context-'));
      try {
        for (const l of lines.filter((x) => /^COPY (?!--from)/.test(x))) {
          const parts = l.split(/\s+/).slice(1);
          const dest = parts.pop()!;
          for (const src of parts) {
            expect(existsSync(join(ROOT, src)), src).toBe(true);
            const to = dest.endsWith('/') ? join(context, dest, basename(src)) : join(context, dest);
            cpSync(join(ROOT, src), to, { recursive: true });
          }
        }
        expect(lines.filter((l) => l.startsWith('RUN '))).toEqual([
          'RUN npm ci --no-audit --no-fund',
          'RUN npm run build && npm prune --omit=dev --omit=optional',
        ]);
        symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'), 'dir');
        await run('npm', ['run', 'build', '--silent'], { cwd: context, maxBuffer: 1 << 24 });
        const built = await serve(['--model', fixture('tiny', 'st')], {}, join(context, 'bin', 'sbert.js'));
        expect((await get(`${built.url}/ready`)).status).toBe(200);
        await stop(built);
      } finally {
        rmSync(context, { recursive: true, force: true });
      }
      // What the runtime stage keeps (dist/src, bin) imports only `dependencies` (optional ones are loaded
      // dynamically, with a fallback, and left out of the image). dist/src/ui is the explorer page's source
      // compiled for the checks (tsc, the layering rules); nothing in Node loads it: the page is dist/ui's bundle.
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Obj;
      const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
      const files = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
        );
      const used = new Set<string>();
      const runtime = files(join(ROOT, 'dist', 'src')).filter((f) => !f.startsWith(join(ROOT, 'dist', 'src', 'ui')));
      for (const f of [...runtime, join(ROOT, 'bin', 'sbert.js')]) {
        for (const m of readFileSync(f, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"./][^'"]*)['"]/g)) {
          const spec = m[1]!;
          if (spec.startsWith('node:')) continue;
          used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
      expect([...used].filter((p) => !allowed.has(p))).toEqual([]);
      expect(used.has('fastify') && used.has('prom-client')).toBe(true);
    }, 300_000);

    it('Dockerfile and Deployment: their commands start a server whose probes answer 200', async () => {
      const entry = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
      const cmd = JSON.parse(/^CMD (.*)$/m.exec(dockerfile)![1]!) as string[];
      expect(entry).toEqual(['node', 'bin/sbert.js']);
      const deployment = kind('Deployment');
      const pod = deployment.spec.template;
      const c = pod.spec.containers[0];
      expect(c.args).toEqual([...cmd, '--max-queue', '2048']);
      const flag = (name: string) => c.args[c.args.indexOf(name) + 1] as string;
      // Ports, volume and labels line up.
      const port = Number(flag('--port'));
      expect(Number(/^EXPOSE (\d+)$/m.exec(dockerfile)![1])).toBe(port);
      const http = c.ports.find((p: Obj) => p.name === 'http');
      expect(http.containerPort).toBe(port);
      expect(flag('--model').startsWith(`${c.volumeMounts[0].mountPath}/`)).toBe(true);
      expect(pod.spec.volumes.map((v: Obj) => v.name)).toContain(c.volumeMounts[0].name);
      expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(port));
      const service = kind('Service');
      expect(service.spec.ports[0].targetPort).toBe('http');
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(pod.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      expect(c.resources.requests.memory).toBeDefined();
      expect(c.env[0].name).toBe('SBERT_API_KEY');
      // The container's command, here: the model from the fixtures instead of the volume, on a free local port.
      const args = c.args
        .slice(1)
        .map((a: string, i: number, all: string[]) =>
          all[i - 1] === '--model'
            ? fixture('tiny', 'st')
            : all[i - 1] === '--host'
              ? '127.0.0.1'
              : all[i - 1] === '--port'
                ? '0'
                : a,
        );
      server = await serve(args, { SBERT_API_KEY: 'sk-k8s' });
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(c[probe].httpGet.port, probe).toBe('http');
        const res = await get(`${server.url}${c[probe].httpGet.path}`);
        expect(res.status, `${probe} ${c[probe].httpGet.path}`).toBe(200);
      }
      expect(c.readinessProbe.httpGet.path).toBe('/ready');
      expect(c.livenessProbe.httpGet.path).toBe('/health');
      const metrics = await get(`${server.url}${pod.metadata.annotations['prometheus.io/path']}`);
      expect(metrics.status).toBe(200);
      expect((await get(`${server.url}/info`)).status).toBe(401); // the API key from the Secret is required
    });

    it("the autoscaler's metric, and every sbert_* metric the doc names, are on /metrics", async () => {
      const hpa = kind('HorizontalPodAutoscaler');
      const rules = manifests.find((m) => Array.isArray(m)) as Obj[];
      const metricNames = new Set<string>();
      const text = (await get(`${server!.url}/metrics`)).text;
      for (const l of text.split('\n')) if (l.startsWith('# TYPE ')) metricNames.add(l.split(' ')[2]!);
      expect(hpa.spec.scaleTargetRef.name).toBe(kind('Deployment').metadata.name);
      expect(metricNames).toContain(hpa.spec.metrics[0].pods.metric.name);
      expect(rules[0]!.seriesQuery).toContain(hpa.spec.metrics[0].pods.metric.name);
      const mentioned = new Set(readFileSync(join(ROOT, 'docs', 'serve.md'), 'utf8').match(/\bsbert_[a-z_]+/g));
      const family = (n: string) => n.replace(/_(bucket|sum|count)$/, '');
      expect([...mentioned].filter((n) => !metricNames.has(n) && !metricNames.has(family(n)))).toEqual([]);
    });
  });
});
