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

/**
 * The first line of an error's message, with any other control character (and the bidirectional overrides of
 * "Trojan Source") escaped as `\uXXXX`: names read from files (tensors, shards, keys) reach messages, and must
 * never move the terminal's cursor, retitle it, or hide text.
 */
export function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? msg).replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
