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
  let out = '';
  for (const c of msg.split('\n')[0] ?? msg)
    out += isUnprintable(c.charCodeAt(0)) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c;
  return out;
}

/** C0 controls but tab, DEL, C1 controls, line / paragraph separators, bidirectional overrides and isolates. */
export function isUnprintable(u: number): boolean {
  return (
    (u < 0x20 && u !== 0x09) ||
    (u >= 0x7f && u <= 0x9f) ||
    u === 0x2028 ||
    u === 0x2029 ||
    (u >= 0x202a && u <= 0x202e) ||
    (u >= 0x2066 && u <= 0x2069)
  );
}
