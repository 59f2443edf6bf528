// What every route reaches through `app.sbert`: the encoder, the batcher, the metrics, the limits, and
// `embed()` — texts in, vectors out through the shared queue — which is all a new JSON route needs.
import type { SentenceEncoder } from '../encoder/sentence-encoder.js';
import type { Batcher, SubmitTimings } from './batcher.js';
import { ApiError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import { prepareTexts, type TruncationDirection } from './texts.js';

export type ServerState = 'loading' | 'ready' | 'draining' | 'failed';

/** The limits and names the routes apply (resolved from the options and the model). */
export interface ServerLimits {
  /** Texts per request (`--max-inputs`); more → 413. */
  maxInputs: number;
  /** Body bytes (`--payload-limit`); more → 413. */
  payloadLimit: number;
  batchSize: number;
  maxBatchTokens: number;
  maxQueue: number;
}

export interface EmbedOptions {
  /** L2-normalise (default: the model's `Normalize` module, else false — as `encode`). */
  normalize?: boolean;
  /** Cut texts over the model's length (default) or answer 400. */
  truncate?: boolean;
  direction?: TruncationDirection;
  /** Names text `i` in error messages, as the request spelled it (`input[3]`); default `input[i]`. */
  field?: (i: number) => string;
  /** Aborts when the client goes away: the texts leave the queue. */
  signal?: AbortSignal;
}

export interface EmbedResult {
  vectors: Float32Array[];
  /** Tokens the model saw, special tokens included. */
  tokens: number;
  characters: number;
  timings: SubmitTimings;
}

export class ServerContext {
  state: ServerState = 'loading';
  encoder?: SentenceEncoder;
  batcher?: Batcher;
  /** Why loading failed, when it did. */
  failure?: string;
  private requests = 0;
  private whenIdle: (() => void)[] = [];

  constructor(
    /** The name `/v1/models` lists and responses echo when a request names none. */
    readonly modelName: string,
    readonly limits: ServerLimits,
    readonly metrics: ServerMetrics,
  ) {}

  /** Requests being handled (from their headers to their answer, or their client leaving). */
  get inFlight(): number {
    return this.requests;
  }

  requestStarted(): void {
    this.requests++;
  }

  requestEnded(): void {
    if (--this.requests === 0) for (const f of this.whenIdle.splice(0)) f();
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    return this.requests === 0 ? Promise.resolve() : new Promise((resolve) => this.whenIdle.push(resolve));
  }

  /**
   * The encoder and batcher, or a 503 saying why there are none yet (loading) or at all (failed). While the
   * server drains they are still there: requests that arrived before the signal are finished (new ones are
   * refused on arrival, see `refuseWhileDraining`).
   */
  ready(): { encoder: SentenceEncoder; batcher: Batcher } {
    if (this.encoder && this.batcher && (this.state === 'ready' || this.state === 'draining')) {
      return { encoder: this.encoder, batcher: this.batcher };
    }
    if (this.state === 'failed')
      throw new ApiError(503, `the model failed to load: ${this.failure ?? 'unknown error'}`, { teiType: 'Unhealthy' });
    if (this.state === 'draining') throw new ApiError(503, 'the server is shutting down', { teiType: 'Unhealthy' });
    throw new ApiError(503, 'the model is still loading', { retryAfter: 5, teiType: 'Unhealthy' });
  }

  /** For an API request as it arrives: 503 once the server is shutting down. */
  refuseWhileDraining(): void {
    if (this.state === 'draining') throw new ApiError(503, 'the server is shutting down', { teiType: 'Unhealthy' });
  }

  /** Tokenizes (with the truncation policy), queues, and waits for one vector per text, in order. */
  async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
    const { encoder, batcher } = this.ready();
    const prepared = prepareTexts(
      encoder.tokenizer,
      texts,
      { maxLength: encoder.maxSeqLength, truncate: opts.truncate ?? true, direction: opts.direction ?? 'right' },
      opts.field ?? ((i) => `input[${i}]`),
    );
    const settings = { pooling: encoder.pooling, normalize: opts.normalize ?? encoder.loaded.normalize ?? false };
    const { vectors, timings } = await batcher.submit(prepared.encodings, settings, opts.signal);
    return { vectors, tokens: prepared.tokens, characters: prepared.characters, timings };
  }
}
