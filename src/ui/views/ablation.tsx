// View 5: head ablation. Toggle heads off (their z set to 0 before the attention's output projection, in both
// sentences: `ablateHeads`) and see the similarity and the per-layer curve change beside the intact model's.
import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { HeadId, SimilarityResponse } from '../../server/explorer/types.js';
import { postJson } from '../api.js';
import { LayerChart } from '../chart.js';
import { Loaded, useRequest } from '../request.js';
import { f32 } from '../tensor.js';

export function AblationView(p: { texts: string[]; run: number; layers: number; heads: number }): JSX.Element {
  const [off, setOff] = useState<HeadId[]>([]);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const [focus, setFocus] = useState(0);
  const isOff = (l: number, h: number) => off.some((x) => x.layer === l && x.head === h);
  const toggle = (l: number, h: number) =>
    setOff(isOff(l, h) ? off.filter((x) => x.layer !== l || x.head !== h) : [...off, { layer: l, head: h }]);
  const key = off.length === 0 ? null : `${p.run}/${off.map((x) => `${x.layer}.${x.head}`).join(',')}`;
  const [a, b] = p.texts;
  const req = useRequest(key, (signal) =>
    postJson<SimilarityResponse>('explorer/similarity', { a, b, ablate: off }, signal),
  );
  if (!b) return <p class="hint">Type a second sentence (B): ablation shows how their similarity changes.</p>;

  const move = (e: KeyboardEvent, i: number) => {
    const d: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -p.heads, ArrowDown: p.heads };
    if (!(e.key in d)) return;
    e.preventDefault();
    const next = Math.min(p.layers * p.heads - 1, Math.max(0, i + d[e.key]!));
    setFocus(next);
    refs.current[next]?.focus();
  };

  return (
    <div class="view-ablation">
      <section class="card" aria-label="heads to ablate">
        <fieldset class="ablate-grid">
          <legend>
            <h3>Heads (press to switch off; arrow keys move)</h3>
          </legend>
          {Array.from({ length: p.layers }, (_, l) => (
            <div class="ablate-row" key={l}>
              <span class="ablate-layer">layer {l}</span>
              {Array.from({ length: p.heads }, (_, h) => {
                const i = l * p.heads + h;
                return (
                  <button
                    key={h}
                    type="button"
                    ref={(el) => {
                      refs.current[i] = el;
                    }}
                    class={`ablate-head${isOff(l, h) ? ' off' : ''}`}
                    data-layer={l}
                    data-head={h}
                    aria-pressed={isOff(l, h)}
                    aria-label={`ablate layer ${l} head ${h}`}
                    tabIndex={focus === i ? 0 : -1}
                    onClick={() => {
                      setFocus(i);
                      toggle(l, h);
                    }}
                    onKeyDown={(e) => move(e, i)}
                  >
                    {h}
                  </button>
                );
              })}
            </div>
          ))}
        </fieldset>
        <p>
          {off.length === 0 ? 'No head is ablated.' : `${off.length} head${off.length > 1 ? 's' : ''} ablated.`}{' '}
          <button type="button" class="link" disabled={off.length === 0} onClick={() => setOff([])}>
            clear
          </button>
        </p>
      </section>
      {off.length > 0 && (
        <Loaded request={req} what="the similarity with those heads ablated">
          {(d) => (
            <section class="card" aria-labelledby="ablated-title">
              <h3 id="ablated-title">With the heads ablated</h3>
              <p class="big">
                similarity{' '}
                <output id="ablated-similarity" data-value={String(d.ablated!.similarity)}>
                  {f32(d.ablated!.similarity)}
                </output>{' '}
                <span class="sub">
                  (intact: {f32(d.similarity)}, change {(d.ablated!.similarity - d.similarity).toFixed(6)})
                </span>
              </p>
              <LayerChart layers={d.layers} ablated={d.ablated!.layers} />
            </section>
          )}
        </Loaded>
      )}
    </div>
  );
}
