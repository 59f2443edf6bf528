// Errors from talking to the model hub. All are bad-input errors (exit 2) with one-line messages.
import { InputError } from '../errors.js';

export class HubError extends InputError {
  override name = 'HubError';
}

/** The hub (or mirror) did not answer at all: DNS failure, refused connection, timeout, TLS failure. */
export class HubUnreachableError extends HubError {
  override name = 'HubUnreachableError';
  constructor(
    readonly endpoint: string,
    readonly reason: string,
    readonly modelId: string,
  ) {
    super(unreachableMessage(endpoint, reason, modelId));
  }
}

export function unreachableMessage(endpoint: string, reason: string, id: string): string {
  return (
    `cannot reach the model hub at ${endpoint} (${reason}); to proceed, set HF_ENDPOINT to a reachable mirror ` +
    `(e.g. HF_ENDPOINT=https://hf-mirror.com), or run \`sbert download ${id}\` on a machine that can reach the hub ` +
    `and copy the folder into weights/${id}/, or pass --model DIR`
  );
}

/** Why a fetch() rejected, as a short code: ENOTFOUND, ECONNREFUSED, timeout, ... */
export function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const cause = err instanceof Error ? (err.cause as { code?: unknown; errors?: { code?: unknown }[]; message?: unknown } | undefined) : undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') return code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
