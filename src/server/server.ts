// The server: a Fastify app whose routes are plugins over one ServerContext (`app.sbert`), and its life:
// listen first (so that liveness answers while a large model loads), load, take requests, drain on shutdown.
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { BackendName } from '../backend/index.js';
import { InputError, UsageError, messageOf } from '../errors.js';
import { cutBatch } from '../encoder/batches.js';
import { checkWorkers } from '../encoder/max-workers.js';
import { type EncoderLoadOptions, SentenceEncoder } from '../encoder/sentence-encoder.js';
import { bearerAuth } from './auth.js';
import { useJsonBodyParser } from './body.js';
import { SERVER_DEFAULTS } from './defaults.js';
import { Batcher } from './batcher.js';
import { ServerContext, type ServerLimits } from './context.js';
import { ApiError } from './errors.js';
import { defaultWorkers, type Executor, startExecutor } from './executor.js';
import { sendError } from './http.js';
import { CLIENT_CLOSED, ServerMetrics, UNMATCHED_ROUTE } from './metrics.js';
import { probeRoutes } from './routes/health.js';
import { openAiRoutes } from './routes/openai.js';
import { teiRoutes } from './routes/tei.js';

export { SERVER_DEFAULTS };

declare module 'fastify' {
  interface FastifyInstance {
    /** The model, its queue, limits and metrics, shared by every route. */
    sbert: ServerContext;
  }
}

export interface ServerOptions {
  /** A model folder or hub id (as `SentenceEncoder.load`); loaded after the server listens. */
  model?: string;
  /** Or an encoder already loaded (the server does not dispose it). */
  encoder?: SentenceEncoder;
  backend?: BackendName;
  /** Called while a hub id is downloaded before the model loads (the server itself prints nothing). */
  onDownload?: EncoderLoadOptions['onDownload'];
  /** Tokens per text (default: the model's `max_seq_length`). */
  maxSeqLength?: number;
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Default 8080; 0 picks a free port (see `SbertServer.url`). */
  port?: number;
  /** When set, the API routes need `Authorization: Bearer <apiKey>` (probes and metrics stay open). */
  apiKey?: string;
  /** Texts per forward (default 32, as `encode`). */
  batchSize?: number;
  /** Padded tokens per forward (default 8192, as `encode` on CPU backends). */
  maxBatchTokens?: number;
  /** Texts that may wait for a forward before requests get 503 (default 4096). */
  maxQueue?: number;
  /** Texts per request (default 2048, OpenAI's limit). */
  maxInputs?: number;
  /** Request body bytes (default 2 000 000, TEI's). */
  payloadLimit?: number;
  /**
   * Milliseconds in which a whole request (headers and body) must arrive, else 408 and the connection is closed
   * (default 30 000). Fastify's default is none: a client sending a body byte every 2 s held its connection open
   * indefinitely, and a few thousand such clients would hold every file descriptor.
   */
  requestTimeoutMs?: number;
  /** Model threads: 0 = in the server's thread (default on a GPU), N = N worker threads (default 1 elsewhere). */
  workers?: number;
  /** The name `/v1/models` lists and responses echo (default: `model`). */
  modelName?: string;
  /** pino log level for the JSON logs on stdout (default `silent`; the CLI passes `info`). */
  logLevel?: string;
  /** More route plugins behind the API key (they reach the model through `app.sbert`). */
  plugins?: FastifyPluginAsync[];
  /** More route plugins without the key (e.g. static pages). */
  publicPlugins?: FastifyPluginAsync[];
  /** Where batches run (default: `startExecutor`); for wrapping the model's execution. */
  executor?: (encoder: SentenceEncoder, workers: number) => Promise<Executor>;
}

export interface SbertServer {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  url: string;
  context: ServerContext;
  /** Resolves when the model is loaded and requests are taken; rejects when loading fails. */
  ready: Promise<void>;
  /** Stops taking requests (new connections are refused, /ready says 503), finishes those in flight, frees the model. */
  shutdown(): Promise<void>;
}

function limitsOf(o: ServerOptions): ServerLimits {
  const limits: ServerLimits = {
    batchSize: o.batchSize ?? SERVER_DEFAULTS.batchSize,
    maxBatchTokens: o.maxBatchTokens ?? SERVER_DEFAULTS.maxBatchTokens,
    maxQueue: o.maxQueue ?? SERVER_DEFAULTS.maxQueue,
    maxInputs: o.maxInputs ?? SERVER_DEFAULTS.maxInputs,
    payloadLimit: o.payloadLimit ?? SERVER_DEFAULTS.payloadLimit,
  };
  for (const [k, v] of Object.entries(limits)) {
    if (!(Number.isSafeInteger(v) && v >= 1)) throw new UsageError(`${k} must be a positive integer, got ${v}`);
  }
  if (limits.maxQueue < limits.maxInputs) {
    throw new UsageError(
      `max queue (${limits.maxQueue}) must be at least max inputs (${limits.maxInputs}): a full request could never be queued`,
    );
  }
  return limits;
}

/** One access-log line per request (at `info`, when it completes, with its method and route), not two. */
class AccessLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: reply.statusCode,
      ms: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** The Fastify app around a context: probes and metrics open, the API routes behind the key. */
export async function buildApp(
  ctx: ServerContext,
  o: Pick<ServerOptions, 'apiKey' | 'logLevel' | 'plugins' | 'publicPlugins' | 'requestTimeoutMs'>,
): Promise<FastifyInstance> {
  const requestTimeout = o.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs;
  if (!(Number.isSafeInteger(requestTimeout) && requestTimeout >= 1))
    throw new UsageError(`requestTimeoutMs must be a positive integer, got ${requestTimeout}`);
  const app = Fastify({
    requestTimeout,
    // Headers have their own timeout (Node's default: 60 s, longer than ours), and Node checks for requests past
    // their timeout every 30 s by default: a drip would get up to 30 s more.
    http: {
      headersTimeout: Math.min(60_000, requestTimeout),
      connectionsCheckingInterval: Math.min(1000, requestTimeout),
    },
    logger: { level: o.logLevel ?? 'silent' },
    logController: new AccessLog(),
    bodyLimit: ctx.limits.payloadLimit,
    // While draining, the routes answer 503 in their own error shape (ServerContext.ready) and /health stays 200.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  app.decorate('sbert', ctx);
  // Bodies are JSON; a text/plain body is refused (415) rather than read as a string.
  app.removeContentTypeParser('text/plain');
  useJsonBodyParser(app);
  app.addHook('onRequest', async (request, reply) => {
    ctx.requestStarted();
    // Counted when the socket lets go of the response: answered, or abandoned by the client (499).
    reply.raw.once('close', () => {
      ctx.requestEnded();
      const status = reply.raw.writableFinished ? reply.statusCode : CLIENT_CLOSED;
      ctx.metrics.observeRequest(
        request.routeOptions.url ?? UNMATCHED_ROUTE,
        request.method,
        status,
        reply.elapsedTime / 1000,
      );
    });
  });
  // While draining, answers tell keep-alive clients not to send more on this connection.
  app.addHook('onSend', async (_request, reply) => {
    if (ctx.state === 'draining') reply.header('Connection', 'close');
  });
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, 'tei', ctx.limits.payloadLimit));
  app.setNotFoundHandler((request, reply) => {
    const e = new ApiError(404, `no route ${request.method} ${request.url.split('?')[0]}`, { teiType: 'Validation' });
    sendError(e, request, reply, request.url.startsWith('/v1/') ? 'openai' : 'tei');
  });
  await app.register(probeRoutes);
  for (const p of o.publicPlugins ?? []) await app.register(p);
  await app.register(async (api) => {
    api.addHook('onRequest', async () => ctx.refuseWhileDraining());
    if (o.apiKey !== undefined) api.addHook('onRequest', bearerAuth(o.apiKey));
    await api.register(openAiRoutes);
    await api.register(teiRoutes);
    for (const p of o.plugins ?? []) await api.register(p);
  });
  return app;
}

function listenProblem(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return 'the address is in use (another server? pick another --port)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'no such address on this machine (--host)';
    default:
      return messageOf(e);
  }
}

/** Listens, then loads the model in the background (`ready`), and returns. */
export async function startServer(o: ServerOptions): Promise<SbertServer> {
  if (!o.model && !o.encoder) throw new UsageError('startServer needs a model (folder or hub id) or an encoder');
  if (o.apiKey !== undefined && o.apiKey.trim() === '') throw new UsageError('the API key is empty');
  if (o.workers !== undefined) checkWorkers(o.workers, 0);
  const limits = limitsOf(o);
  let ctx: ServerContext | undefined;
  const metrics = new ServerMetrics({
    inFlight: () => ctx?.inFlight ?? 0,
    queueDepth: () => ctx?.batcher?.queueDepth ?? 0,
    busy: () => ctx?.batcher?.busy ?? 0,
    ready: () => ctx?.state === 'ready',
    computeSeconds: () => executor?.computeSeconds() ?? 0,
  });
  ctx = new ServerContext(o.modelName ?? o.model ?? 'sbert', limits, metrics);
  const context = ctx;
  const app = await buildApp(context, o);
  const host = o.host ?? SERVER_DEFAULTS.host;
  try {
    await app.listen({ host, port: o.port ?? SERVER_DEFAULTS.port });
  } catch (e) {
    await app.close();
    throw new InputError(`cannot listen on ${host}:${o.port ?? SERVER_DEFAULTS.port}: ${listenProblem(e)}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? SERVER_DEFAULTS.port);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let executor: Executor | undefined;
  const ready = (async () => {
    try {
      const encoder =
        o.encoder ??
        (await SentenceEncoder.load(o.model, {
          backend: o.backend,
          maxSeqLength: o.maxSeqLength,
          onDownload: o.onDownload,
        }));
      context.encoder = encoder;
      const workers = o.workers ?? defaultWorkers(encoder.backend.name);
      executor = await (o.executor ?? startExecutor)(encoder, workers);
      context.batcher = new Batcher(
        executor,
        {
          batchSize: limits.batchSize,
          maxBatchTokens: limits.maxBatchTokens,
          maxQueue: limits.maxQueue,
          cut: (lengths) => cutBatch(lengths, encoder.batching, limits.maxBatchTokens),
          padId: encoder.tokenizer.padId,
        },
        (s) => metrics.observeBatch(s),
      );
      if (context.state === 'loading') context.state = 'ready';
      app.log.info({ model: context.modelName, backend: encoder.backend.name, where: executor.where }, 'ready');
    } catch (e) {
      context.state = 'failed';
      context.failure = messageOf(e);
      throw e;
    }
  })();
  ready.catch(() => {}); // the caller awaits it; a failure must not be reported as unhandled meanwhile

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (closing ??= (async () => {
      if (context.state !== 'failed') context.state = 'draining';
      // Stop listening; requests in flight (waiting on the batcher) finish, each answer flushed to the socket;
      // then connections that carry no request are closed instead of awaited: idle keep-alive ones, and ones
      // a client opened and never used (Node's closeIdleConnections leaves those until their timeout).
      const closed = app.close();
      await context.idle();
      app.server.closeAllConnections();
      await closed;
      await ready.catch(() => {});
      await context.batcher?.drain();
      await executor?.close();
      if (!o.encoder) await context.encoder?.dispose();
    })());
  return { app, url, context, ready, shutdown };
}
