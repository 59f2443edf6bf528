// View 1: each sentence's tokens with their ids and the characters each covers (code-point offsets into the
// text); an unknown token shows the characters it replaced.
import type { JSX } from 'preact';
import type { TokenizedSentence, TokensResponse } from '../../server/explorer/types.js';
import { postJson } from '../api.js';
import { Loaded, useRequest } from '../request.js';

function Sentence({ s, name }: { s: TokenizedSentence; name: string }): JSX.Element {
  const unknown = s.unknown.filter(Boolean).length;
  return (
    <section class="card" aria-label={`sentence ${name}`}>
      <h3>
        Sentence {name}: {s.tokens.length} tokens
        {unknown > 0 && `, ${unknown} unknown`}
      </h3>
      {s.truncated && (
        <p class="note">Longer than the model's limit: the model sees only these tokens (the rest is cut).</p>
      )}
      <ol class="chips" aria-label="tokens">
        {s.tokens.map((t, i) => (
          <li
            key={i}
            class={`chip${s.special[i] ? ' special' : ''}${s.unknown[i] ? ' unknown' : ''}`}
            title={`#${i} id ${s.ids[i]}${s.special[i] ? ' (special)' : ` covers [${s.offsets[i]!.join(', ')})`}`}
          >
            <span class="chip-token">{t}</span>
            {s.unknown[i] && <span class="chip-covers">← {s.covers[i]}</span>}
            <span class="chip-id">{s.ids[i]}</span>
          </li>
        ))}
      </ol>
      <div class="table-scroll">
        <table class="tokens" data-sentence={name}>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">token</th>
              <th scope="col">id</th>
              <th scope="col">characters</th>
              <th scope="col">covers</th>
            </tr>
          </thead>
          <tbody>
            {s.tokens.map((t, i) => (
              <tr key={i} class={s.unknown[i] ? 'unknown' : s.special[i] ? 'special' : undefined}>
                <td>{i}</td>
                <td class="cjk">{t}</td>
                <td>{s.ids[i]}</td>
                <td>{s.special[i] ? '—' : `[${s.offsets[i]![0]}, ${s.offsets[i]![1]})`}</td>
                <td class="cjk">
                  {s.special[i] ? <em>special token</em> : s.unknown[i] ? <>replaced “{s.covers[i]}”</> : s.covers[i]}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function TokensView({ texts, run }: { texts: string[]; run: number }): JSX.Element {
  const req = useRequest(`${run}`, (signal) => postJson<TokensResponse>('explorer/tokens', { texts }, signal));
  return (
    <Loaded request={req} what="the tokens">
      {(d) => (
        <div class="columns">
          {d.sentences.map((s, i) => (
            <Sentence key={i} s={s} name={i === 0 ? 'A' : 'B'} />
          ))}
        </div>
      )}
    </Loaded>
  );
}
