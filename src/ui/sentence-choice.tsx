// Which of the two sentences a one-sentence view shows: radio buttons A / B (none with one sentence).
import type { JSX } from 'preact';

export function SentenceChoice(p: {
  texts: string[];
  which: number;
  onChoose: (i: number) => void;
  /** The radio group's name, unique on the page. */
  name: string;
}): JSX.Element | null {
  if (p.texts.length < 2) return null;
  return (
    <fieldset class="choice">
      <legend>Sentence</legend>
      {p.texts.map((_, i) => (
        <label key={i}>
          <input type="radio" name={p.name} checked={p.which === i} onChange={() => p.onChoose(i)} />
          {i === 0 ? 'A' : 'B'}
        </label>
      ))}
    </fieldset>
  );
}
