// Errors the server answers with: one class carries the HTTP status and what each API family needs to
// render it in its own shape (OpenAI's `{error: {message, type, param, code}}`, text-embeddings-inference's
// `{error, error_type}`).

/** text-embeddings-inference's `error_type` values (router/src/lib.rs `ErrorType`), plus `Unauthorized`. */
export type TeiErrorType =
  | 'Unhealthy'
  | 'Backend'
  | 'Overloaded'
  | 'Validation'
  | 'Tokenizer'
  | 'Empty'
  | 'Unauthorized';

export interface ApiErrorDetails {
  /** The request field at fault (OpenAI's `param`), e.g. `input` or `input[3]`. */
  param?: string;
  /** A machine-readable code (OpenAI's `code`), e.g. `invalid_api_key`, `context_length_exceeded`. */
  code?: string;
  /** TEI's error type; by default derived from the status. */
  teiType?: TeiErrorType;
  /** Seconds for a `Retry-After` header (503s). */
  retryAfter?: number;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly details: ApiErrorDetails = {},
  ) {
    super(message);
  }
}

/** A request whose client went away: nothing is sent back. */
export class RequestCancelled extends Error {
  override name = 'RequestCancelled';
}

/** OpenAI's error `type` for a status (as its API answers: 4xx are `invalid_request_error`). */
export function openAiType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 503) return 'server_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

export function openAiErrorBody(e: ApiError): {
  error: { message: string; type: string; param: string | null; code: string | null };
} {
  return {
    error: {
      message: e.message,
      type: openAiType(e.status),
      param: e.details.param ?? null,
      code: e.details.code ?? null,
    },
  };
}

export function teiErrorBody(e: ApiError): { error: string; error_type: TeiErrorType } {
  const type =
    e.details.teiType ??
    (e.status === 401 ? 'Unauthorized' : e.status === 503 ? 'Overloaded' : e.status >= 500 ? 'Backend' : 'Validation');
  return { error: e.message, error_type: type };
}

/**
 * Any error a route or Fastify raised → an ApiError: Fastify's own 4xx (malformed JSON, body too large,
 * unsupported media type) keep their status with a clearer message; anything else is a 500 whose message
 * names the problem without a stack.
 */
export function toApiError(err: unknown, payloadLimit?: number): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const message = (e.message ?? String(err)).split('\n')[0]!;
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'the body is shorter or longer than its Content-Length');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'the body is empty: send a JSON object');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        `the body is larger than this server's limit of ${payloadLimit ?? '?'} bytes (--payload-limit)`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported Content-Type: send the body as JSON with Content-Type: application/json');
  }
  if (status >= 400 && status < 500) return new ApiError(status, message);
  return new ApiError(500, `internal error: ${message}`, { teiType: 'Backend' });
}
