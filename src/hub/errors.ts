// Errors from talking to the model hub. All are bad-input errors (exit 2) with one-line messages.
import { InputError } from '../errors.js';

export class HubError extends InputError {
  override name = 'HubError';
}

/** What an "unreachable" message knows about the case, so that its advice fits it. */
export interface OfflineAdvice {
  endpoint: string;
  /** Why the request failed: ENOTFOUND, ECONNREFUSED, timed out, ... */
  reason: string;
  id: string;
  /** The endpoint came from HF_ENDPOINT (so suggesting a mirror there would be beside the point). */
  endpointFromEnv: boolean;
  /** The folder the model was to go into (as the user would type it). */
  dir?: string;
  /** `download`: the `sbert download` command; `model`: a command loading `--model ID`. */
  command?: 'download' | 'model';
}

/** The hub (or mirror) did not answer at all: DNS failure, refused connection, timeout, TLS failure. */
export class HubUnreachableError extends HubError {
  override name = 'HubUnreachableError';
  readonly endpoint: string;
  readonly reason: string;
  readonly modelId: string;
  constructor(advice: OfflineAdvice) {
    super(unreachableMessage(advice));
    this.endpoint = advice.endpoint;
    this.reason = advice.reason;
    this.modelId = advice.id;
  }
}

export function unreachableMessage(a: OfflineAdvice): string {
  const dir = a.dir ?? `weights/${a.id}/`;
  const mirror = a.endpointFromEnv
    ? `check HF_ENDPOINT (set to ${a.endpoint}), or unset it to use https://huggingface.co`
    : 'set HF_ENDPOINT to a reachable mirror (e.g. HF_ENDPOINT=https://hf-mirror.com)';
  const copy = `run \`sbert download ${a.id}\` on a machine that can reach the hub and copy the folder into ${dir}`;
  const local = a.command === 'download' ? '' : ', or pass --model DIR';
  return `cannot reach the model hub at ${a.endpoint} (${a.reason}); to proceed, ${mirror}, or ${copy}${local}`;
}

/** Why a fetch() rejected, as a short code: ENOTFOUND, ECONNREFUSED, timeout, ... */
export function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause =
    err instanceof Error
      ? (err.cause as { code?: unknown; errors?: { code?: unknown }[]; message?: unknown } | undefined)
      : undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') return code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
