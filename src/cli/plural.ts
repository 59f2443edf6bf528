// Counts in messages: "1 text", "2 texts".

/** `n word(s)`: "1 text", "2 texts" (plural = word + "s" unless given). */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : plural}`;
}
