// `sbert serve`: parses the flags and runs the HTTP server (src/server) until SIGTERM / SIGINT; `--ui` adds the
// internals explorer (src/server/explorer). `sbert explore` (explore.ts) takes the same flags.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SERVER_DEFAULTS } from '../server/defaults.js';
import type { RunHooks } from '../server/run.js';
import { downloadProgress } from './download-progress.js';
import { addModelOptions, type ModelOptions, positiveInt } from './options.js';

export interface ServeCliOptions extends ModelOptions {
  host: string;
  port: number;
  apiKey?: string;
  batchSize: number;
  maxBatchTokens: number;
  maxQueue: number;
  maxInputs: number;
  payloadLimit: number;
  workers?: number;
  modelName?: string;
  logLevel: string;
  ui?: boolean;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new InvalidArgumentError('expected a port number (0-65535; 0 = any free port)');
  return n;
}

function workerCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected 0 (in-process) or a positive integer');
  return n;
}

/** The server's flags (`serve` and `explore`); `logLevel` is the default of `--log-level`. */
export function addServeOptions(cmd: Command, logLevel = 'info'): Command {
  return addModelOptions(cmd)
    .option(
      '--host <host>',
      'address to listen on (0.0.0.0 for every interface, e.g. in a container)',
      SERVER_DEFAULTS.host,
    )
    .option('--port <n>', 'port (0 = any free port)', portNumber, SERVER_DEFAULTS.port)
    .addOption(
      new Option('--api-key <key>', 'require Authorization: Bearer KEY on the API routes').env('SBERT_API_KEY'),
    )
    .option('--batch-size <n>', 'texts per forward', positiveInt, SERVER_DEFAULTS.batchSize)
    .option(
      '--max-batch-tokens <n>',
      'padded tokens (texts × longest) per forward',
      positiveInt,
      SERVER_DEFAULTS.maxBatchTokens,
    )
    .option(
      '--max-queue <n>',
      'texts that may wait for the model; beyond it requests get 503 + Retry-After',
      positiveInt,
      SERVER_DEFAULTS.maxQueue,
    )
    .option('--max-inputs <n>', 'texts per request; more get 413', positiveInt, SERVER_DEFAULTS.maxInputs)
    .option('--payload-limit <bytes>', 'request body size; larger get 413', positiveInt, SERVER_DEFAULTS.payloadLimit)
    .option(
      '--workers <n>',
      'model threads: 0 = in the server thread (default on a GPU), N worker threads (default 1)',
      workerCount,
    )
    .option('--model-name <name>', 'the name /v1/models lists and responses echo (default: --model)')
    .addOption(
      new Option('--log-level <level>', 'JSON logs on stdout')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default(logLevel),
    );
}

/** Runs the server the flags describe until SIGTERM / SIGINT. */
export async function serveWith(o: ServeCliOptions, hooks: RunHooks = {}): Promise<void> {
  // Fastify, prom-client and tfjs load only when the server starts.
  const { runServer } = await import('../server/run.js');
  const explorer = o.ui ? (await import('../server/explorer/index.js')).explorerPlugins() : {};
  await runServer(
    {
      model: o.model,
      onDownload: downloadProgress(),
      backend: o.backend,
      maxSeqLength: o.maxLength,
      host: o.host,
      port: o.port,
      apiKey: o.apiKey,
      batchSize: o.batchSize,
      maxBatchTokens: o.maxBatchTokens,
      maxQueue: o.maxQueue,
      maxInputs: o.maxInputs,
      payloadLimit: o.payloadLimit,
      workers: o.workers,
      modelName: o.modelName,
      logLevel: o.logLevel,
      ...explorer,
    },
    { status: (line) => process.stderr.write(`sbert: ${line}\n`), ...hooks },
  );
}

export function register(program: Command): void {
  addServeOptions(
    program
      .command('serve')
      .description(
        'HTTP server: OpenAI /v1/embeddings, text-embeddings-inference /embed and /similarity, probes, Prometheus /metrics',
      ),
  )
    .option('--ui', 'also serve the internals explorer (a web page) at /')
    .action((o: ServeCliOptions) => serveWith(o));
}
