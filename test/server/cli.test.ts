// `sbert serve` as a process: flags and their errors, SBERT_API_KEY, the logs, and SIGTERM: the request in
// flight is answered, new connections are refused, exit 0.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { errorLine, sbert } from '../cli.js';
import { get, maxAbs, post, TINY, until } from './helpers.js';
import { serve } from './spawn.js';

// The server batches texts other than encode does: other padded shapes, so a BLAS may block and round its sums
// differently (oneDNN on an AMD EPYC: 1.2e-6 on the tiny model, 2026-12-01).
const BATCHING_TOLERANCE = 5e-6;

describe('sbert serve (process)', () => {
  let enc: SentenceEncoder;
  beforeAll(async () => {
    enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
  });
  afterAll(async () => {
    await enc?.dispose();
  });

  it('--help lists the flags; bad flags are usage errors (exit 1), a bad model is bad input (exit 2)', async () => {
    const help = await sbert(['serve', '--help']);
    expect(help.code).toBe(0);
    for (const f of [
      '--host',
      '--port',
      '--api-key',
      '--batch-size',
      '--max-batch-tokens',
      '--max-queue',
      '--max-inputs',
      '--payload-limit',
      '--workers',
    ]) {
      expect(help.stdout).toContain(f);
    }
    const port = await sbert(['serve', '--model', TINY, '--port', '70000']);
    expect(port.code).toBe(1);
    expect(errorLine(port)).toMatch(/--port.*expected a port number/);
    const queue = await sbert(['serve', '--model', TINY, '--port', '0', '--max-queue', '10', '--max-inputs', '100']);
    expect(queue.code).toBe(1);
    expect(errorLine(queue)).toMatch(/^error: max queue \(10\) must be at least max inputs \(100\)/);
    const model = await sbert(['serve', '--model', '/nonexistent/model', '--port', '0']);
    expect(model.code).toBe(2);
    expect(errorLine(model)).toMatch(/^error: .*\/nonexistent\/model/);
    const taken = await serve(['--model', TINY]);
    try {
      const busy = await sbert(['serve', '--model', TINY, '--port', new URL(taken.url).port]);
      expect(busy.code).toBe(2);
      expect(errorLine(busy)).toBe(
        `error: cannot listen on 127.0.0.1:${new URL(taken.url).port}: the address is in use (another server? pick another --port)`,
      );
      const host = await sbert(['serve', '--model', TINY, '--port', '0', '--host', '192.0.2.1']);
      expect(host.code).toBe(2);
      expect(errorLine(host)).toBe('error: cannot listen on 192.0.2.1:0: no such address on this machine (--host)');
    } finally {
      taken.child.kill('SIGTERM');
      await taken.exited;
    }
    const empty = await sbert(['serve', '--model', TINY, '--port', '0'], { env: { SBERT_API_KEY: ' ' } });
    expect(empty.code).toBe(1);
    expect(errorLine(empty)).toBe('error: the API key is empty');
  });

  it('SBERT_API_KEY guards the API; JSON access logs on stdout never hold the key; SIGTERM when idle: exit 0', async () => {
    const key = 'sk-env-key-42';
    const p = await serve(['--model', TINY], { SBERT_API_KEY: key });
    try {
      expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await post(`${p.url}/embed`, { inputs: 'a' })).status).toBe(401);
      expect((await post(`${p.url}/embed`, { inputs: 'a' }, { authorization: `Bearer ${key}` })).status).toBe(200);
      await until(() => p.stdout().includes('"route":"/embed","status":200'), 'the access log line');
      const lines = p
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.msg === 'request completed').map((l) => [l.method, l.route, l.status])).toEqual([
        ['POST', '/embed', 401],
        ['POST', '/embed', 200],
      ]);
      expect(p.stdout()).not.toContain(key);
      expect(p.stderr()).not.toContain(key);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/sbert: SIGTERM: finishing 0 requests in flight, refusing new ones\nsbert: stopped\n$/);
  });

  it("SIGTERM with a request in flight: it is answered (200, encode's vectors), new connections are refused, exit 0", async () => {
    const p = await serve(['--model', TINY]);
    const texts = ['那个人很开心', '那只猫在吃东西', '一个男人在弹吉他'];
    const body = Buffer.from(JSON.stringify({ input: texts, encoding_format: 'float' }));
    const { port } = new URL(p.url);
    // A client uploading slowly: headers and half the body now, the rest after the signal.
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    const closed = new Promise((r) => socket.on('close', r));
    socket.write(
      `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body.subarray(0, 20));
    const inFlight = async () => /^sbert_http_requests_in_flight 2$/m.test((await get(`${p.url}/metrics`)).text);
    await until(inFlight, 'the request to be in flight');
    p.child.kill('SIGTERM');
    await until(() => p.stderr().includes('SIGTERM: finishing 1 request in flight'), 'the shutdown to begin');
    // A new connection (not one a client pool kept alive, which the server closes instead) is refused.
    const refused = await new Promise<string>((resolve) => {
      const probe = connect(Number(port), '127.0.0.1');
      probe.on('connect', () => {
        probe.destroy();
        resolve('connected');
      });
      probe.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    });
    expect(refused).toBe('ECONNREFUSED');
    socket.write(body.subarray(20));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { data: { embedding: number[] }[] };
    expect(
      maxAbs(
        json.data.map((d) => d.embedding),
        await enc.encode(texts),
      ),
    ).toBeLessThanOrEqual(BATCHING_TOLERANCE);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/sbert: stopped\n$/);
  });
});
