// Errors the CLI maps to exit codes: usage mistakes → 1, bad input (files, text) → 2.
// Messages are one line and name the file (when there is one) and the problem.

export class UsageError extends Error {
  readonly exitCode = 1;
  override name = 'UsageError';
}

export class InputError extends Error {
  readonly exitCode: number = 2;
  override name = 'InputError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
  }
}

/** A checkpoint, config or tokenizer file that is malformed, truncated, or asks for something we refuse. */
export class CheckpointError extends InputError {
  override name = 'CheckpointError';
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof InputError) return err.exitCode;
  return 2;
}

export function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
