// The explorer page: two sentences in, six views of what the model does with them. The sentences are committed
// with Run (or Enter) and kept in the URL (?a=…&b=…) so a view can be shared; each view asks the server for
// its own data when it is shown, and keeps it while other tabs are.
import type { JSX } from 'preact';
import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ExplorerInfo, SimilarityResponse } from '../server/explorer/types.js';
import { getJson, postJson, setApiKey } from './api.js';
import { FailureContext, Loaded, type RequestState, useRequest } from './request.js';
import { f32 } from './tensor.js';
import { AblationView } from './views/ablation.js';
import { AttentionView } from './views/attention.js';
import { AttributionsView } from './views/attributions.js';
import { HooksView } from './views/hooks.js';
import { LayersView } from './views/layers.js';
import { TokensView } from './views/tokens.js';

const TABS = [
  { id: 'tokens', name: 'Tokens' },
  { id: 'attention', name: 'Attention' },
  { id: 'layers', name: 'Similarity by layer' },
  { id: 'attributions', name: 'Attributions' },
  { id: 'ablation', name: 'Head ablation' },
  { id: 'hooks', name: 'Hook points' },
] as const;
type Tab = (typeof TABS)[number]['id'];

const EXAMPLE = ['那个人很开心', '那个人非常开心'];

function initialTexts(): string[] {
  const q = new URLSearchParams(location.search);
  const a = q.get('a');
  return a === null ? EXAMPLE : [a, q.get('b') ?? ''];
}

function KeyForm({ onKey }: { onKey: () => void }): JSX.Element {
  const input = useRef<HTMLInputElement>(null);
  return (
    <form
      class="card keyform"
      onSubmit={(e) => {
        e.preventDefault();
        setApiKey(input.current!.value.trim());
        onKey();
      }}
    >
      <label>
        This server needs an API key (<code>--api-key</code>):{' '}
        <input ref={input} id="api-key" type="password" autocomplete="off" required />
      </label>{' '}
      <button type="submit">Use it</button>
    </form>
  );
}

function Tabs(p: { tab: Tab; onTab: (t: Tab) => void }): JSX.Element {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onKeyDown = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === p.tab);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const t = TABS[(to + TABS.length) % TABS.length]!.id;
    p.onTab(t);
    refs.current[t]?.focus();
  };
  return (
    <div class="tabs" role="tablist" aria-label="views">
      {TABS.map((t) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[t.id] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={p.tab === t.id}
          aria-controls={`panel-${t.id}`}
          tabIndex={p.tab === t.id ? 0 : -1}
          onClick={() => p.onTab(t.id)}
          onKeyDown={onKeyDown}
        >
          {t.name}
        </button>
      ))}
    </div>
  );
}

/** One view with the sentences it shows (the layers view reads the headline's similarity request). */
function View(p: {
  tab: Tab;
  texts: string[];
  run: number;
  info: ExplorerInfo;
  similarity: RequestState<SimilarityResponse> | null;
}): JSX.Element {
  const { texts, run, info: m } = p;
  switch (p.tab) {
    case 'tokens':
      return <TokensView texts={texts} run={run} />;
    case 'attention':
      return <AttentionView texts={texts} run={run} />;
    case 'layers':
      return <LayersView similarity={p.similarity} />;
    case 'attributions':
      return <AttributionsView texts={texts} run={run} methods={m.attributionMethods} steps={m.attributionSteps} />;
    case 'ablation':
      return <AblationView texts={texts} run={run} layers={m.layers} heads={m.heads} />;
    case 'hooks':
      return <HooksView texts={texts} run={run} hookNames={m.hookNames} />;
  }
}

/** The page: asks for the API key when a request answers 401, and runs everything again with it. */
export function App(): JSX.Element {
  const [keyEpoch, setKeyEpoch] = useState(0);
  const [needKey, setNeedKey] = useState(false);
  const onFailure = useCallback((status: number) => status === 401 && setNeedKey(true), []);
  return (
    <FailureContext.Provider value={onFailure}>
      {needKey && (
        <KeyForm
          onKey={() => {
            setNeedKey(false);
            setKeyEpoch((n) => n + 1);
          }}
        />
      )}
      <Explorer keyEpoch={keyEpoch} />
    </FailureContext.Provider>
  );
}

function Explorer({ keyEpoch }: { keyEpoch: number }): JSX.Element {
  const [draft, setDraft] = useState<string[]>(initialTexts);
  const [committed, setCommitted] = useState<{ texts: string[]; run: number }>(() => ({
    texts: initialTexts().filter((t, i) => i === 0 || t.trim() !== ''),
    run: 1,
  }));
  const [tab, setTab] = useState<Tab>('tokens');
  const { texts } = committed;
  const run = committed.run * 1000 + keyEpoch;
  // The sentences each view last showed: a hidden view keeps its data and asks for nothing until it is shown
  // again (attributions of a long text cost seconds), then catches up with the sentences of the latest Run.
  const [shown, setShown] = useState<Partial<Record<Tab, { texts: string[]; run: number }>>>({});
  useLayoutEffect(
    () => setShown((v) => (v[tab]?.run === run && v[tab]?.texts === texts ? v : { ...v, [tab]: { texts, run } })),
    [tab, run, texts],
  );

  const info = useRequest(`info/${keyEpoch}`, (signal) => getJson<ExplorerInfo>('explorer/info', signal));
  const pair = texts.length === 2;
  const similarity = useRequest(pair ? `${run}` : null, (signal) =>
    postJson<SimilarityResponse>('explorer/similarity', { a: texts[0], b: texts[1] }, signal),
  );

  const submit = (e?: Event) => {
    e?.preventDefault();
    const [a = '', b = ''] = draft;
    const next = b.trim() === '' ? [a] : [a, b];
    const q = new URLSearchParams({ a, ...(b.trim() ? { b } : {}) });
    history.replaceState(null, '', `?${q}`);
    setCommitted((c) => ({ texts: next, run: c.run + 1 }));
  };
  const showTab = (t: Tab) => setTab(t);
  const keyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey) submit(e);
  };
  const empty = draft[0]!.trim() === '';

  return (
    <>
      <header class="top">
        <h1>sbert-tfjs explorer</h1>
        <Loaded request={info} what="the model">
          {(m) => (
            <p class="model" id="model-info">
              <strong>{m.model}</strong> · {m.modelType} · {m.layers} layers × {m.heads} heads · hidden {m.hidden} ·
              pooling {m.pooling}
              {m.normalize ? ' + normalize' : ''} · up to {m.maxLength} tokens · backend {m.backend}
            </p>
          )}
        </Loaded>
      </header>
      <form class="card inputs" onSubmit={submit} aria-label="sentences">
        {(['A', 'B'] as const).map((name, i) => (
          <label key={name} class="sentence">
            <span>Sentence {name}</span>
            <textarea
              id={`sentence-${name.toLowerCase()}`}
              rows={2}
              value={draft[i]}
              lang="zh"
              placeholder={i === 0 ? 'a sentence' : 'a second sentence, to compare (optional)'}
              onInput={(e) => setDraft(draft.map((t, j) => (j === i ? (e.target as HTMLTextAreaElement).value : t)))}
              onKeyDown={keyDown}
            />
          </label>
        ))}
        <div class="run">
          <button type="submit" id="run" disabled={empty}>
            Run
          </button>
          <span class="hint">Enter runs; Shift + Enter for a new line.</span>
        </div>
      </form>
      {pair && (
        <div class="card headline">
          <Loaded request={similarity} what="the similarity">
            {(d) => (
              <p class="big">
                similarity of A and B{' '}
                <output id="similarity" data-value={String(d.similarity)} data-run={committed.run}>
                  {f32(d.similarity)}
                </output>{' '}
                <span class="sub">
                  (cosine of the sentence embeddings; {d.tokens.a} and {d.tokens.b} tokens)
                </span>
              </p>
            )}
          </Loaded>
        </div>
      )}
      <Loaded request={info} what="the views">
        {(m) => (
          <main>
            <Tabs tab={tab} onTab={showTab} />
            {TABS.map((t) => (
              <section
                key={t.id}
                id={`panel-${t.id}`}
                role="tabpanel"
                aria-labelledby={`tab-${t.id}`}
                hidden={tab !== t.id}
                class="panel"
              >
                {shown[t.id] && <View tab={t.id} {...shown[t.id]!} info={m} similarity={pair ? similarity : null} />}
              </section>
            ))}
          </main>
        )}
      </Loaded>
    </>
  );
}
