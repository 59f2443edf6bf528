// Every request the page makes goes through useRequest: it shows a loading state while it runs, the server's
// message when it fails, aborts a request whose inputs changed before it answered, and tells the app when the
// server wants an API key.
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { RequestError } from './api.js';

export type RequestState<T> =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: string };

/** Called with the status of a failed request (401: ask for the API key). */
export const FailureContext = createContext<(status: number) => void>(() => {});

/**
 * Runs `fetcher` whenever `key` changes (null: nothing to fetch). The fetcher gets an AbortSignal, aborted when
 * the key changes again or the component goes away.
 */
export function useRequest<T>(key: string | null, fetcher: (signal: AbortSignal) => Promise<T>): RequestState<T> {
  // The state remembers its key: the render in which the key changes already shows the loading state, never
  // the previous key's data (which would let children ask for their own data about the old inputs).
  const [st, setSt] = useState<{ key: string | null; state: RequestState<T> }>({ key, state: { state: 'idle' } });
  const onFailure = useContext(FailureContext);
  // (the key says when the request changes: the fetcher is a new closure every render)
  useEffect(() => {
    if (key === null) {
      setSt({ key, state: { state: 'idle' } });
      return;
    }
    const ac = new AbortController();
    setSt({ key, state: { state: 'loading' } });
    fetcher(ac.signal).then(
      (data) => !ac.signal.aborted && setSt({ key, state: { state: 'ready', data } }),
      (e: unknown) => {
        if (ac.signal.aborted) return;
        const status = e instanceof RequestError ? e.status : 0;
        onFailure(status);
        setSt({ key, state: { state: 'error', error: e instanceof Error ? e.message : String(e) } });
      },
    );
    return () => ac.abort();
  }, [key]);
  if (st.key !== key) return key === null ? { state: 'idle' } : { state: 'loading' };
  return st.state;
}

/** The loading line or the error box of a request; its children once it is ready. */
export function Loaded<T>(p: {
  request: RequestState<T>;
  what: string;
  children: (data: T) => ComponentChildren;
}): JSX.Element | null {
  const r = p.request;
  if (r.state === 'idle') return null;
  if (r.state === 'loading') {
    return (
      <p class="loading" role="status">
        <span class="spinner" aria-hidden="true" />
        Loading {p.what}…
      </p>
    );
  }
  if (r.state === 'error') {
    return (
      <div class="error" role="alert">
        <strong>Could not load {p.what}.</strong> {r.error}
      </div>
    );
  }
  return <>{p.children(r.data)}</>;
}
