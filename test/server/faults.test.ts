// Every fault the server answers, with its status and body in both API families: malformed or mistyped bodies
// (400), too large or too many (413), wrong media type (415), no route (404), auth (401), a full queue and a
// model not loaded yet (503 + Retry-After), and a client that goes away (its work dropped, nothing else hit).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../../src/encoder/sentence-encoder.js';
import { startExecutor } from '../../src/server/executor.js';
import { type SbertServer, startServer } from '../../src/server/server.js';
import { expectOpenAiError, expectTeiError, Gate, get, maxAbs, post, TINY, tinyServer, until } from './helpers.js';

const KEY = 'sk-faults-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

describe('faults', () => {
  const gate = new Gate();
  let server: SbertServer;
  let enc: SentenceEncoder;
  let oa: string;
  let embed: string;

  beforeAll(async () => {
    server = await tinyServer({
      apiKey: KEY,
      batchSize: 2,
      maxQueue: 8,
      maxInputs: 8,
      payloadLimit: 4096,
      executor: gate.executor(),
    });
    enc = await SentenceEncoder.load(TINY, { backend: 'wasm', workers: 1 });
    oa = `${server.url}/v1/embeddings`;
    embed = `${server.url}/embed`;
  });
  afterAll(async () => {
    gate.open();
    await server?.shutdown();
    await enc?.dispose();
  });

  it('malformed JSON, an empty body, a body that is not an object: 400', async () => {
    expectOpenAiError(await post(oa, '{"input": ["a",', auth), 400, /^the body is not valid JSON$/);
    expectTeiError(await post(embed, '{"inputs": tru', auth), 400, /^the body is not valid JSON$/, 'Validation');
    expectOpenAiError(await post(oa, '', auth), 400, /^the body is empty/);
    expectOpenAiError(await post(oa, '["a"]', auth), 400, /must be a JSON object, got an array/);
    expectTeiError(await post(embed, '"a"', auth), 400, /must be a JSON object, got a string/, 'Validation');
    expectOpenAiError(await post(oa, '{"__proto__": {"x": 1}, "input": "a"}', auth), 400, /key "__proto__"/);
    expectTeiError(
      await post(embed, '{"inputs": "a", "constructor": {"prototype": {"x": 1}}}', auth),
      400,
      /"constructor" object with a "prototype"/,
      'Validation',
    );
  });

  it('a body in another encoding than UTF-8, or with a key given twice: 4xx naming the problem, never embedded', async () => {
    // Before (third attack): Fastify decoded invalid UTF-8 to U+FFFD and a Latin-1 body ("caf\xe9") as "caf\ufffd",
    // and kept the last of two equal keys: each embedded and answered 200.
    const raw = (body: Uint8Array, contentType = 'application/json') =>
      fetch(embed, {
        method: 'POST',
        headers: { ...auth, 'content-type': contentType },
        body: new Blob([new Uint8Array(body)]),
      }).then(async (r) => ({
        status: r.status,
        headers: r.headers,
        body: await r.json(),
        text: '',
      }));
    const utf8 = (s: string) => new TextEncoder().encode(s);
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    for (const bad of [
      [0xff],
      [0xfe, 0xff],
      [0xc3],
      [0xe9],
      [0xed, 0xa0, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xc0, 0xaf],
    ])
      expectTeiError(await raw(bytes('{"inputs": "caf', bad, '"}')), 400, /^the body is not valid UTF-8/, 'Validation');
    for (const charset of ['latin1', 'ISO-8859-1', 'utf-16', '"windows-1252"', 'UTF-16LE'])
      expectTeiError(
        await raw(utf8('{"inputs": "a"}'), `application/json; charset=${charset}`),
        415,
        /^the body is declared as charset=.*: send JSON in UTF-8$/,
        'Validation',
      );
    // UTF-8 by any spelling is JSON as usual.
    for (const charset of ['utf-8', 'UTF-8', 'utf8', '"utf-8"']) {
      const r = await raw(utf8('{"inputs": "a"}'), `application/json; charset=${charset}`);
      expect(r.status, charset).not.toBe(415);
    }
    for (const [body, key] of [
      ['{"inputs": "a", "inputs": "b"}', '"inputs"'],
      ['{"inputs": "a", "truncate": true, "truncate": false}', '"truncate"'],
      ['{"inputs": {"source_sentence": "a", "sentences": ["b"], "sentences": ["c"]}}', '"inputs"."sentences"'],
      ['{"input": "a", "model": "x", "\u0069nput": "b"}', '"input"'],
    ] as const) {
      const url = body.includes('"input"') ? oa : body.includes('source_sentence') ? `${server.url}/similarity` : embed;
      const r = await post(url, body, auth);
      expect(r.status, body).toBe(400);
      expect(JSON.stringify(r.body), body).toContain(`the body gives the key ${key.replace(/"/g, '\\"')} twice`);
    }
  });

  it('wrong types: 400 naming the field', async () => {
    const cases: [unknown, RegExp, string][] = [
      [{}, /`input` is required/, 'input'],
      [{ input: null }, /`input` must be a string or an array of strings, got null/, 'input'],
      [{ input: 7 }, /got a number/, 'input'],
      [{ input: { a: 1 } }, /got an object/, 'input'],
      [{ input: [] }, /empty array/, 'input'],
      [{ input: ['a', null] }, /`input\[1\]` must be a string, got null/, 'input[1]'],
      [{ input: [1, 2, 3] }, /`input\[0\]` must be a string, got a number \(token ids are not accepted/, 'input[0]'],
      [{ input: 'a', model: 5 }, /`model` must be a string/, 'model'],
      [{ input: 'a', encoding_format: 'hex' }, /`encoding_format` must be "float" or "base64"/, 'encoding_format'],
      [{ input: 'a', user: [] }, /`user` must be a string/, 'user'],
    ];
    for (const [body, message, param] of cases) expectOpenAiError(await post(oa, body, auth), 400, message, param);
  });

  // Issue 14 variant (kind 5): a lone surrogate escape is no Unicode text (HF's tokenizers refuse it); it was
  // embedded as something else, 200.
  it('a lone surrogate in any text: 400 naming the field and the character', async () => {
    const lone = (param: string, code: string, at: number) =>
      new RegExp(
        `^\`${param.replace(/[[\].]/g, '\\$&')}\` holds a lone surrogate \\\\${code} at character ${at}, which is not a Unicode character$`,
      );
    expectOpenAiError(await post(oa, '{"input": "a\\ud800b"}', auth), 400, lone('input', 'ud800', 2), 'input');
    expectOpenAiError(
      await post(oa, '{"input": ["ok", "\\udc00"]}', auth),
      400,
      lone('input[1]', 'udc00', 1),
      'input[1]',
    );
    expectTeiError(await post(embed, '{"inputs": "x\\udbff"}', auth), 400, lone('inputs', 'udbff', 2), 'Validation');
    expectTeiError(
      await post(`${server.url}/similarity`, '{"inputs": {"source_sentence": "\\ud800", "sentences": ["a"]}}', auth),
      400,
      lone('inputs.source_sentence', 'ud800', 1),
      'Validation',
    );
  });

  it('a body over --payload-limit, or more texts than --max-inputs: 413', async () => {
    const big = { input: ['好'.repeat(2000)] };
    expectOpenAiError(await post(oa, big, auth), 413, /larger than this server's limit of 4096 bytes/);
    expectTeiError(await post(embed, { inputs: big.input }, auth), 413, /limit of 4096 bytes/, 'Validation');
    const many = Array.from({ length: 9 }, (_, i) => `句子${i}`);
    expectOpenAiError(
      await post(oa, { input: many }, auth),
      413,
      /has 9 texts, more than this server's limit of 8/,
      'input',
    );
    expectTeiError(await post(embed, { inputs: many }, auth), 413, /has 9 texts/, 'Validation');
    const sim = { inputs: { source_sentence: 'a', sentences: many.slice(0, 8) } };
    expectTeiError(
      await post(`${server.url}/similarity`, sim, auth),
      413,
      /`inputs.sentences` has 8 texts, more than this server's limit of 7/,
      'Validation',
    );
  });

  it('a Content-Type other than JSON: 415; an unknown route: 404', async () => {
    const form = await fetch(oa, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'input=a',
    });
    expectOpenAiError(
      { status: form.status, headers: form.headers, body: await form.json(), text: '' },
      415,
      /Content-Type: application\/json/,
    );
    expectOpenAiError(await get(`${server.url}/v1/chat`, auth), 404, /^no route GET \/v1\/chat$/);
    expectTeiError(await get(`${server.url}/embeddings`), 404, /^no route GET \/embeddings$/, 'Validation');
    expectOpenAiError(await get(oa, auth), 404, /no route GET \/v1\/embeddings/);
  });

  it('auth: no key, a wrong key, another scheme → 401 with WWW-Authenticate; probes and metrics stay open', async () => {
    const noKey = await post(oa, { input: 'a' });
    expectOpenAiError(noKey, 401, /^no API key: send the header Authorization: Bearer <key>$/);
    expect(noKey.headers.get('www-authenticate')).toBe('Bearer');
    expectOpenAiError(
      await post(oa, { input: 'a' }, { authorization: 'Bearer sk-faults-0123456780' }),
      401,
      /^incorrect API key$/,
      null,
      'invalid_api_key',
    );
    expectOpenAiError(
      await post(oa, { input: 'a' }, { authorization: `Basic ${KEY}` }),
      401,
      /^incorrect API key$/,
      null,
      'invalid_api_key',
    );
    expectOpenAiError(
      await post(oa, { input: 'a' }, { authorization: `Bearer ${KEY}x` }),
      401,
      /incorrect/,
      null,
      'invalid_api_key',
    );
    expectTeiError(await post(embed, { inputs: 'a' }), 401, /no API key/, 'Unauthorized');
    expectTeiError(
      await post(`${server.url}/similarity`, { inputs: {} }, { authorization: 'Bearer x' }),
      401,
      /incorrect API key/,
      'Unauthorized',
    );
    expectTeiError(await get(`${server.url}/info`), 401, /no API key/, 'Unauthorized');
    const models = await get(`${server.url}/v1/models`);
    expectOpenAiError(models, 401, /no API key/);
    // The key is never echoed.
    for (const a of [noKey, models]) expect(a.text).not.toContain(KEY);
    expect((await get(`${server.url}/health`)).status).toBe(200);
    expect((await get(`${server.url}/ready`)).status).toBe(200);
    expect((await get(`${server.url}/metrics`)).status).toBe(200);
    const ok = await post(oa, { input: '那个人很开心' }, { authorization: `bearer  ${KEY}` });
    expect(ok.status).toBe(200);
  });

  it('a full queue: 503 + Retry-After for the request that would overflow it; the others finish', async () => {
    gate.close();
    const taken = gate.taken;
    const texts = (k: number, n: number) => Array.from({ length: n }, (_, i) => `第${k}组第${i}句`);
    const a = post(oa, { input: texts(0, 2) }, auth); // taken by the model (held at the gate)
    await until(() => gate.taken === taken + 1, 'the first batch');
    const b = post(embed, { inputs: texts(1, 6), normalize: false }, auth); // waits: 6 of 8
    await until(() => server.context.batcher!.queueDepth === 6, 'six texts queued');
    const full = await post(oa, { input: texts(2, 3) }, auth);
    expectOpenAiError(
      full,
      503,
      /^the queue is full \(6 texts waiting, limit 8\); retry in \d+ s$/,
      null,
      'queue_full',
    );
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const fullTei = await post(embed, { inputs: texts(2, 3) }, auth);
    expectTeiError(fullTei, 503, /the queue is full/, 'Overloaded');
    expect(fullTei.headers.get('retry-after')).toMatch(/^\d+$/);
    const c = post(oa, { input: texts(3, 2) }, auth); // fits exactly: 8 of 8
    await until(() => server.context.batcher!.queueDepth === 8, 'eight texts queued');
    gate.open();
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    const vectors = (r: typeof ra) => (r.body as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
    expect(maxAbs(vectors(ra), await enc.encode(texts(0, 2)))).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(rb.body as number[][], await enc.encode(texts(1, 6)))).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(vectors(rc), await enc.encode(texts(3, 2)))).toBeLessThanOrEqual(1e-6);
  });

  it('a client that goes away while its texts wait: they leave the queue and never run; the others are untouched', async () => {
    gate.close();
    const before = gate.ran.length;
    const taken = gate.taken;
    const a = post(oa, { input: ['甲一', '甲二'] }, auth);
    await until(() => gate.taken === taken + 1, 'the first batch');
    const ac = new AbortController();
    const gone = post(oa, { input: ['乙', '午', '未'] }, auth, ac.signal).catch((e: unknown) => e);
    await until(() => server.context.batcher!.queueDepth === 3, 'three texts queued');
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until(() => server.context.batcher!.queueDepth === 0, 'the texts to leave the queue');
    const c = post(oa, { input: ['丙一'] }, auth);
    await until(() => server.context.batcher!.queueDepth === 1, 'the next request queued');
    gate.open();
    const [ra, rc] = await Promise.all([a, c]);
    expect(ra.status).toBe(200);
    expect(rc.status).toBe(200);
    const vectors = (r: typeof ra) => (r.body as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
    expect(maxAbs(vectors(ra), await enc.encode(['甲一', '甲二']))).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(vectors(rc), await enc.encode(['丙一']))).toBeLessThanOrEqual(1e-6);
    // Exactly the two other requests' texts ran.
    const ran = gate.ran.slice(before);
    expect(ran.map((j) => j.batch)).toEqual([2, 1]);
    const goneIds = new Set(enc.tokenize(['乙', '午', '未']).flatMap((e) => e.inputIds.slice(1, -1)));
    expect(goneIds.size).toBe(3);
    expect(goneIds.has(enc.tokenizer.unkId)).toBe(false);
    expect(ran.flatMap((j) => [...j.ids]).some((id) => goneIds.has(id))).toBe(false);
    const metrics = (await get(`${server.url}/metrics`)).text;
    expect(metrics).toMatch(/^sbert_http_requests_total\{route="\/v1\/embeddings",method="POST",status="499"\} 1$/m);
  });

  it('a client that goes away while its batch runs: the batch finishes for the others in it', async () => {
    gate.close();
    const taken = gate.taken;
    const first = post(oa, { input: ['丁'] }, auth);
    await until(() => gate.taken === taken + 1, 'a batch held');
    const ac = new AbortController();
    const gone = post(oa, { input: ['戊'] }, auth, ac.signal).catch((e: unknown) => e);
    const stays = post(oa, { input: ['己'] }, auth);
    await until(() => server.context.batcher!.queueDepth === 2, 'both queued');
    gate.open();
    await first;
    // '戊' and '己' now share one batch (batch size 2); hold it, then let '戊''s client go.
    gate.close();
    await until(() => gate.taken === taken + 2, 'the shared batch held');
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    gate.open();
    const r = await stays;
    expect(r.status).toBe(200);
    expect(
      maxAbs([(r.body as { data: { embedding: number[] }[] }).data[0]!.embedding], await enc.encode(['己'])),
    ).toBeLessThanOrEqual(1e-6);
  });
});

describe('slow clients', () => {
  it('a client that drips its request (headers or body) is answered 408 and cut once the request timeout passes', async () => {
    // Before (third attack): Fastify's request timeout is none by default; a body byte every 2 s held a connection
    // open past 75 s (indefinitely), and enough such clients would hold every file descriptor.
    const server = await tinyServer({ requestTimeoutMs: 1000 });
    const { port } = new URL(server.url);
    const drip = (head: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1');
        let got = '';
        socket.on('data', (d) => {
          got += d.toString();
        });
        socket.write(head);
        const timer = setInterval(() => socket.writable && socket.write(' '), 100);
        socket.on('close', () => {
          clearInterval(timer);
          resolve(got.split('\r\n')[0] ?? '');
        });
      });
    try {
      const body =
        'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{';
      const headers = 'POST /embed HTTP/1.1\r\nHost: x\r\nX-Slow: a';
      expect(await Promise.all([drip(body), drip(headers)])).toEqual([
        'HTTP/1.1 408 Request Timeout',
        'HTTP/1.1 408 Request Timeout',
      ]);
      // A request that arrives whole is served as usual on the same server.
      expect((await post(`${server.url}/embed`, { inputs: 'a' })).status).toBe(200);
    } finally {
      await server.shutdown();
    }
    await expect(tinyServer({ requestTimeoutMs: 0 })).rejects.toThrow(/requestTimeoutMs must be a positive integer/);
  });
});

describe('before the model is loaded', () => {
  it('API routes answer 503 + Retry-After, /ready 503, /health 200; then all is served', async () => {
    let release: () => void = () => {};
    const loaded = new Promise<void>((r) => (release = r));
    const server = await startServer({
      model: TINY,
      backend: 'wasm',
      port: 0,
      executor: async (encoder, workers) => {
        await loaded;
        return startExecutor(encoder, workers);
      },
    });
    try {
      await until(() => server.context.encoder !== undefined, 'the encoder');
      const oa = await post(`${server.url}/v1/embeddings`, { input: 'a' });
      expectOpenAiError(oa, 503, /^the model is still loading$/);
      expect(oa.headers.get('retry-after')).toBe('5');
      expectTeiError(await post(`${server.url}/embed`, { inputs: 'a' }), 503, /still loading/, 'Unhealthy');
      const ready = await get(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'loading' });
      expect(await get(`${server.url}/health`)).toMatchObject({ status: 200, body: { status: 'ok' } });
      release();
      await server.ready;
      expect(await get(`${server.url}/ready`)).toMatchObject({
        status: 200,
        body: { status: 'ready', backend: 'wasm', dimension: 32 },
      });
      expect((await post(`${server.url}/embed`, { inputs: 'a' })).status).toBe(200);
    } finally {
      release();
      await server.shutdown();
    }
  });

  it('a model that fails to load: ready rejects with the error; /health and /ready say failed', async () => {
    const server = await startServer({ model: '/nonexistent/model-dir', port: 0 });
    try {
      await expect(server.ready).rejects.toThrow(/nonexistent/);
      const health = await get(`${server.url}/health`);
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'failed', error: expect.stringMatching(/nonexistent/) });
      expectOpenAiError(
        await post(`${server.url}/v1/embeddings`, { input: 'a' }),
        503,
        /^the model failed to load: .*nonexistent/,
      );
    } finally {
      await server.shutdown();
    }
  });
});

describe('while draining', () => {
  it('a request that still arrives (on a kept-alive connection) gets 503 + Connection: close; /ready 503, /health 200', async () => {
    const server = await tinyServer();
    try {
      server.context.state = 'draining'; // what shutdown() sets first
      const oa = await post(`${server.url}/v1/embeddings`, { input: 'a' });
      expectOpenAiError(oa, 503, /^the server is shutting down$/);
      expect(oa.headers.get('connection')).toBe('close');
      expectTeiError(await post(`${server.url}/embed`, { inputs: 'a' }), 503, /shutting down/, 'Unhealthy');
      const ready = await get(`${server.url}/ready`);
      expect(ready).toMatchObject({ status: 503, body: { status: 'draining' } });
      expect(ready.headers.get('connection')).toBe('close');
      expect((await get(`${server.url}/health`)).status).toBe(200);
    } finally {
      server.context.state = 'ready';
      await server.shutdown();
    }
  });
});
