// Requests to the explorer's JSON routes on the server that served the page (relative URLs, so the page also
// works behind a path prefix). A 4xx / 5xx becomes a RequestError carrying the server's own message.
import type { ErrorResponse } from '../server/explorer/types.js';

const KEY_STORE = 'sbert-explorer-api-key';

export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    /** The HTTP status; 0 when the server did not answer. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API key the server asked for (`--api-key`), kept for this tab only. */
export function apiKey(): string | null {
  return sessionStorage.getItem(KEY_STORE);
}

export function setApiKey(key: string): void {
  if (key === '') sessionStorage.removeItem(KEY_STORE);
  else sessionStorage.setItem(KEY_STORE, key);
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  const headers = new Headers(init.headers);
  const key = apiKey();
  if (key) headers.set('Authorization', `Bearer ${key}`);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new RequestError(
      0,
      `the server did not answer (${e instanceof Error ? e.message : String(e)}): is it still running?`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.trim() || res.statusText;
    try {
      message = (JSON.parse(text) as ErrorResponse).error ?? message;
    } catch {
      // not JSON: the text itself
    }
    throw new RequestError(res.status, `${res.status} ${res.statusText}: ${message}`);
  }
  return JSON.parse(text) as T;
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>(path, { method: 'GET', signal });
}

export function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return request<T>(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
    signal,
  });
}
