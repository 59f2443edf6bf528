// The server's default limits, apart from the server: the CLI shows them in its options without loading Fastify.
import { MAX_FORWARD_TOKENS } from '../encoder/batches.js';

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  batchSize: 32,
  maxBatchTokens: MAX_FORWARD_TOKENS,
  maxQueue: 4096,
  maxInputs: 2048,
  payloadLimit: 2_000_000,
  /** The whole request (headers and body) must arrive within it, however slowly a client drips it. */
  requestTimeoutMs: 30_000,
} as const;
