// View 6: any hook point. Pick a name (TransformerLens's, docs/hooks.md) and a sentence: its shape, statistics,
// and a heatmap of its values, positions down the side (a head chosen for per-head points).
import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { HookResponse } from '../../server/explorer/types.js';
import { postJson } from '../api.js';
import { mapFor } from '../colormap.js';
import { Heatmap } from '../heatmap.js';
import { Legend } from '../legend.js';
import { Loaded, useRequest } from '../request.js';
import { SentenceChoice } from '../sentence-choice.js';
import { decodeTensor, f32, type Tensor } from '../tensor.js';

/** The 2-D picture of an activation for one sentence: [L, X] as is, per-head shapes one head at a time. */
export interface Slice {
  rows: number;
  cols: number;
  values: Float32Array;
  rowName: string;
  colName: string;
  /** Heads to choose from (per-head points), else 0. */
  heads: number;
  /** The rows are the token positions. */
  positions: boolean;
  /** The columns are the token positions too (attention scores and patterns). */
  keyPositions: boolean;
}

export function sliceOf(t: Tensor, L: number, wanted: number): Slice {
  const s = t.shape[0] === 1 ? t.shape.slice(1) : t.shape; // batch 1
  const n = s.reduce((a, b) => a * b, 1);
  if (s.length === 2) {
    return {
      rows: s[0]!,
      cols: s[1]!,
      values: t.values,
      rowName: 'position',
      colName: 'feature',
      heads: 0,
      positions: s[0] === L,
      keyPositions: false,
    };
  }
  if (s.length === 3 && s[0] === L) {
    // [L, heads, d_head]: one head's columns
    const [, H, d] = s as [number, number, number];
    const head = Math.min(wanted, H - 1);
    const values = new Float32Array(L * d);
    for (let q = 0; q < L; q++) values.set(t.values.subarray((q * H + head) * d, (q * H + head + 1) * d), q * d);
    return {
      rows: L,
      cols: d,
      values,
      rowName: 'position',
      colName: 'dimension',
      heads: H,
      positions: true,
      keyPositions: false,
    };
  }
  if (s.length === 3) {
    // [heads, L, L]
    const [H, r, c] = s as [number, number, number];
    const head = Math.min(wanted, H - 1);
    return {
      rows: r,
      cols: c,
      values: t.values.subarray(head * r * c, (head + 1) * r * c),
      rowName: 'query',
      colName: 'key',
      heads: H,
      positions: r === L,
      keyPositions: c === L,
    };
  }
  return {
    rows: 1,
    cols: n,
    values: t.values,
    rowName: 'row',
    colName: 'value',
    heads: 0,
    positions: false,
    keyPositions: false,
  };
}

function Activation({ d }: { d: HookResponse }): JSX.Element {
  const t = useMemo(() => decodeTensor(d.tensor), [d]);
  const [head, setHead] = useState(0);
  const slice = sliceOf(t, d.tokens.length, head);
  const map = useMemo(() => mapFor(d.stats.min, d.stats.max), [d]);
  const s = d.stats;
  return (
    <section class="card" aria-labelledby="hook-title">
      <h3 id="hook-title">
        <code>{d.name}</code> <span class="sub">shape [{t.shape.join(', ')}]</span>
      </h3>
      <table class="stats" aria-label="statistics">
        <tbody>
          <tr>
            <th scope="row">values</th>
            <td id="hook-count">{s.count}</td>
            <th scope="row">min</th>
            <td id="hook-min">{f32(s.min)}</td>
            <th scope="row">max</th>
            <td id="hook-max">{f32(s.max)}</td>
          </tr>
          <tr>
            <th scope="row">mean</th>
            <td id="hook-mean">{f32(s.mean)}</td>
            <th scope="row">std</th>
            <td id="hook-std">{f32(s.std)}</td>
            <th scope="row">non-finite</th>
            <td id="hook-nonfinite">{s.nonFinite}</td>
          </tr>
        </tbody>
      </table>
      {slice.heads > 0 && (
        <label class="inline">
          head{' '}
          <select value={head} onChange={(e) => setHead(Number((e.target as HTMLSelectElement).value))}>
            {Array.from({ length: slice.heads }, (_, h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
      )}
      <Legend map={map} label="activation" />
      <Heatmap
        id="hook"
        values={slice.values}
        rows={slice.rows}
        cols={slice.cols}
        rowLabels={slice.positions ? d.tokens : undefined}
        colLabels={
          slice.keyPositions
            ? d.tokens
            : slice.positions
              ? Array.from({ length: slice.cols }, (_, i) => String(i))
              : undefined
        }
        rowName={slice.rowName}
        colName={slice.colName}
        map={map}
        label={`${d.name}${slice.heads ? `, head ${head}` : ''}`}
      />
    </section>
  );
}

/** `embed.*`, `hook_full_embed`, then `blocks.{i}.*` per block. */
function groups(names: string[]): [string, string[]][] {
  const out = new Map<string, string[]>();
  for (const n of names) {
    const m = /^blocks\.(\d+)\./.exec(n);
    const g = m ? `block ${m[1]}` : 'embeddings';
    out.set(g, [...(out.get(g) ?? []), n]);
  }
  return [...out];
}

export function HooksView(p: { texts: string[]; run: number; hookNames: string[] }): JSX.Element {
  const [name, setName] = useState(p.hookNames.find((n) => n.endsWith('attn.hook_pattern')) ?? p.hookNames[0]!);
  const [which, setWhich] = useState(0);
  const text = p.texts[Math.min(which, p.texts.length - 1)]!;
  const req = useRequest(`${p.run}/${which}/${name}`, (signal) =>
    postJson<HookResponse>('explorer/hook', { text, name }, signal),
  );
  return (
    <div class="view-hooks">
      <div class="controls">
        <label>
          Hook point{' '}
          <select id="hook-name" value={name} onChange={(e) => setName((e.target as HTMLSelectElement).value)}>
            {groups(p.hookNames).map(([g, names]) => (
              <optgroup key={g} label={g}>
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        <SentenceChoice texts={p.texts} which={which} onChoose={setWhich} name="hook-sentence" />
      </div>
      <Loaded request={req} what={name}>
        {(d) => <Activation d={d} />}
      </Loaded>
    </div>
  );
}
