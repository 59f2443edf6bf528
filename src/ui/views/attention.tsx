// View 2: attention. Every head of every layer as a thumbnail (layer × head grid); the chosen head large with
// token labels (zoom and scroll, readable at 512 tokens); and the chosen layer's heads as bertviz's head view.
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AttentionLayer, AttentionOverview } from '../../server/explorer/types.js';
import { postJson } from '../api.js';
import { PROBABILITY, pixels } from '../colormap.js';
import { Heatmap } from '../heatmap.js';
import { Legend } from '../legend.js';
import { Loaded, useRequest } from '../request.js';
import { SentenceChoice } from '../sentence-choice.js';
import { decodeTensor } from '../tensor.js';
import { HeadView } from './headview.js';

interface Selected {
  layer: number;
  head: number;
}

function Thumb(p: { values: Float32Array; size: number }): JSX.Element {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current!;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(p.size, p.size);
    pixels(PROBABILITY, p.values, img.data);
    ctx.putImageData(img, 0, 0);
  }, [p.values, p.size]);
  return <canvas ref={ref} width={p.size} height={p.size} class="thumb" />;
}

/** The layer × head grid: a table of buttons, one tab stop (arrow keys move, Enter or Space opens). */
function Grid(p: { o: AttentionOverview; selected: Selected | null; onSelect: (s: Selected) => void }): JSX.Element {
  const { layers, heads, size } = p.o;
  const values = useMemo(() => decodeTensor(p.o.thumbnails).values, [p.o]);
  const [focus, setFocus] = useState<Selected>(p.selected ?? { layer: 0, head: 0 });
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const move = (e: KeyboardEvent, l: number, h: number) => {
    const d: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const m = d[e.key];
    if (!m) return;
    e.preventDefault();
    const next = {
      layer: Math.min(layers - 1, Math.max(0, l + m[0])),
      head: Math.min(heads - 1, Math.max(0, h + m[1])),
    };
    setFocus(next);
    refs.current[next.layer * heads + next.head]?.focus();
  };
  return (
    <table
      class="thumb-grid"
      aria-label="attention of every head: rows are layers, columns are heads"
      data-tokens={p.o.tokens.length}
    >
      <thead>
        <tr>
          <th scope="col" class="thumb-corner">
            layer \ head
          </th>
          {Array.from({ length: heads }, (_, h) => (
            <th scope="col" key={h} class="thumb-head">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: layers }, (_, l) => (
          <tr key={l}>
            <th scope="row" class="thumb-layer">
              {l}
            </th>
            {Array.from({ length: heads }, (_, h) => {
              const i = l * heads + h;
              const on = p.selected?.layer === l && p.selected.head === h;
              return (
                <td key={h}>
                  <button
                    type="button"
                    ref={(el) => {
                      refs.current[i] = el;
                    }}
                    class={`thumb-button${on ? ' selected' : ''}`}
                    data-layer={l}
                    data-head={h}
                    aria-label={`layer ${l}, head ${h}`}
                    aria-pressed={on}
                    tabIndex={focus.layer === l && focus.head === h ? 0 : -1}
                    onClick={() => {
                      setFocus({ layer: l, head: h });
                      p.onSelect({ layer: l, head: h });
                    }}
                    onKeyDown={(e) => move(e, l, h)}
                  >
                    <Thumb values={values.subarray(i * size * size, (i + 1) * size * size)} size={size} />
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LayerDetail(p: { text: string; source: string; selected: Selected; heads: number }): JSX.Element {
  const { text, selected } = p;
  const req = useRequest(`${p.source}/${selected.layer}`, (signal) =>
    postJson<AttentionLayer>('explorer/attention', { text, layer: selected.layer }, signal),
  );
  const layer = useMemo(() => (req.state === 'ready' ? decodeTensor(req.data.attention) : null), [req]);
  return (
    <Loaded request={req} what={`layer ${selected.layer}`}>
      {(d) => {
        const L = d.tokens.length;
        const head = layer!.values.subarray(selected.head * L * L, (selected.head + 1) * L * L);
        return (
          <>
            <section class="card" aria-labelledby="head-title">
              <h3 id="head-title">
                Layer {selected.layer}, head {selected.head}
                <span class="sub"> · rows: query (attending) token · columns: key (attended) token</span>
              </h3>
              <Legend map={PROBABILITY} label="attention probability" />
              <Heatmap
                id="attention"
                values={head}
                rows={L}
                cols={L}
                rowLabels={d.tokens}
                colLabels={d.tokens}
                rowName="query"
                colName="key"
                map={PROBABILITY}
                label={`attention of layer ${selected.layer}, head ${selected.head}`}
              />
            </section>
            <section class="card" aria-labelledby="headview-title">
              <h3 id="headview-title">Head view: layer {selected.layer}</h3>
              <HeadView tokens={d.tokens} attention={layer!.values} heads={p.heads} initialHead={selected.head} />
            </section>
          </>
        );
      }}
    </Loaded>
  );
}

export function AttentionView(p: { texts: string[]; run: number }): JSX.Element {
  const [which, setWhich] = useState(0);
  const [selected, setSelected] = useState<Selected | null>(null);
  const text = p.texts[Math.min(which, p.texts.length - 1)]!;
  const key = `${p.run}/${which}`;
  const req = useRequest(key, (signal) => postJson<AttentionOverview>('explorer/attention', { text }, signal));
  return (
    <div class="view-attention">
      <SentenceChoice texts={p.texts} which={which} onChoose={setWhich} name="attention-sentence" />
      <Loaded request={req} what="the attention maps">
        {(o) => (
          <div class="attention-layout">
            <section class="card" aria-labelledby="grid-title">
              <h3 id="grid-title">
                Every head ({o.layers} layers × {o.heads} heads)
                {o.size < o.tokens.length && (
                  <span class="sub">
                    {' '}
                    · {o.tokens.length} tokens drawn {o.size} × {o.size}: each pixel the largest value of its block
                  </span>
                )}
              </h3>
              <Grid o={o} selected={selected} onSelect={setSelected} />
            </section>
            {selected ? (
              <LayerDetail text={text} source={key} selected={selected} heads={o.heads} />
            ) : (
              <p class="hint">Choose a head in the grid to open it large, with its layer's head view.</p>
            )}
          </div>
        )}
      </Loaded>
    </div>
  );
}
