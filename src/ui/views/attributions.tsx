// View 4: which tokens make the two sentences similar: each token coloured by its attribution score (the explain
// library, `POST /explorer/explain`), the method chosen with radio buttons; one colour scale for both sentences.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ExplainResponse } from '../../server/explorer/types.js';
import { postJson } from '../api.js';
import { type ColorMap, mapFor, rgbOf, textOn } from '../colormap.js';
import { Legend } from '../legend.js';
import { Loaded, useRequest } from '../request.js';
import { f32 } from '../tensor.js';

/** What each method's score says (docs/explain.md has the formulas). */
const ABOUT: Record<string, { name: string; about: string }> = {
  integrated_gradients: {
    name: 'integrated gradients',
    about:
      'Gradients summed along the path from a baseline (the sentence with every word replaced by [PAD]) to the ' +
      'sentence. Signed, and complete: the scores add up to the similarity minus the similarity at the baseline.',
  },
  gradient_x_input: {
    name: 'gradient × input',
    about: 'Gradient of the similarity times the token’s embedding row, summed: signed, a first-order estimate.',
  },
  gradient: {
    name: 'gradient (saliency)',
    about: 'Length of the similarity’s gradient at each token’s embedding row: how strongly it reacts, not which way.',
  },
  attention_rollout: {
    name: 'attention rollout',
    about:
      'How much of each token reaches the last layer’s [CLS] through attention (heads averaged, residual as ½). ' +
      'It does not depend on the other sentence; scores add up to 1.',
  },
};

function Tokens(p: { name: string; side: ExplainResponse['a']; map: ColorMap }): JSX.Element {
  const total = p.side.scores.reduce((s, x) => s + x, 0);
  return (
    <section class="card" aria-label={`sentence ${p.name}, tokens coloured by score`}>
      <h3>
        Sentence {p.name}: {p.side.tokens.length} tokens, scores add up to {f32(total)}
      </h3>
      <p class="attr-tokens" lang="zh" data-sentence={p.name}>
        {p.side.tokens.map((t, i) => {
          const score = p.side.scores[i]!;
          const rgb = rgbOf(p.map, score);
          return (
            <span
              key={i}
              class="attr-token"
              data-index={i}
              data-score={String(score)}
              style={{ background: `rgb(${rgb.join(',')})`, color: textOn(rgb) }}
              title={`#${i} ${t}: ${f32(score)}`}
            >
              {t}
            </span>
          );
        })}
      </p>
      <details>
        <summary>scores as a table</summary>
        <div class="table-scroll">
          <table class="attr-table" data-sentence={p.name}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">token</th>
                <th scope="col">characters</th>
                <th scope="col">score</th>
              </tr>
            </thead>
            <tbody>
              {p.side.tokens.map((t, i) => {
                const [s, e] = p.side.offsets[i]!;
                return (
                  <tr key={i}>
                    <td>{i}</td>
                    <td class="cjk">{t}</td>
                    <td>{s === e ? '—' : `[${s}, ${e})`}</td>
                    <td data-value={String(p.side.scores[i])}>{f32(p.side.scores[i]!)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

export function AttributionsView(p: {
  texts: string[];
  run: number;
  methods: string[];
  steps: { default: number; max: number };
}): JSX.Element {
  const [method, setMethod] = useState(p.methods[0] ?? 'integrated_gradients');
  const [steps, setSteps] = useState(p.steps.default);
  const [a, b] = p.texts;
  const ig = method === 'integrated_gradients';
  const key = b ? `${p.run}/${method}/${ig ? steps : ''}` : null;
  const req = useRequest(key, (signal) =>
    postJson<ExplainResponse>('explorer/explain', { a, b, method, ...(ig ? { steps } : {}) }, signal),
  );
  if (!b) return <p class="hint">Type a second sentence (B): attributions say which tokens make the two similar.</p>;

  return (
    <div class="view-attributions">
      <section class="card" aria-label="attribution method">
        <fieldset class="methods">
          <legend>
            <h3>Method</h3>
          </legend>
          {p.methods.map((m) => (
            <label key={m} class="method">
              <input
                type="radio"
                name="method"
                value={m}
                checked={m === method}
                onChange={() => setMethod(m)}
                data-method={m}
              />{' '}
              <strong>{ABOUT[m]?.name ?? m}</strong> <code>{m}</code>
            </label>
          ))}
        </fieldset>
        <p class="hint" id="method-about">
          {ABOUT[method]?.about}
        </p>
        {ig && (
          <label class="inline">
            Riemann steps{' '}
            <input
              id="ig-steps"
              type="number"
              min={1}
              max={p.steps.max}
              value={steps}
              onChange={(e) => {
                const v = Number((e.target as HTMLInputElement).value);
                if (Number.isInteger(v) && v >= 1 && v <= p.steps.max) setSteps(v);
              }}
            />{' '}
            <span class="hint">(1–{p.steps.max}; more steps, a smaller completeness error, a slower answer)</span>
          </label>
        )}
      </section>
      <Loaded request={req} what={`the attributions (${ABOUT[method]?.name ?? method})`}>
        {(d) => {
          const all = [...d.a.scores, ...d.b.scores];
          const map = mapFor(Math.min(...all), Math.max(...all));
          return (
            <div id="attributions" data-method={d.method}>
              <section class="card" aria-label="what is explained">
                <p>
                  Similarity {f32(d.similarity)}, explained by <strong>{ABOUT[d.method]?.name ?? d.method}</strong>
                  {d.completeness_error && (
                    <>
                      {' '}
                      ({d.steps} steps; completeness error A {d.completeness_error.a.toExponential(1)}, B{' '}
                      {d.completeness_error.b.toExponential(1)})
                    </>
                  )}
                  .
                </p>
                <Legend map={map} label="score" />
              </section>
              <div class="columns">
                <Tokens name="A" side={d.a} map={map} />
                <Tokens name="B" side={d.b} map={map} />
              </div>
            </div>
          );
        }}
      </Loaded>
    </div>
  );
}
