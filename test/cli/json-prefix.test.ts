// The start of a JSONL line that is one JSON string, cut anywhere: its value is the start of the string's value.
import { describe, expect, it } from 'vitest';
import { JsonStringScanner, stringPrefixValue } from '../../src/cli/json-prefix.js';

describe('a JSON string read in part', () => {
  const value = 'a\t"引号"\\ \u00e9 \u4e2d 😀 \n end\u0001';
  const line = `  ${JSON.stringify(value).replace('é', '\\u00e9').replace('😀', '\\ud83d\\ude00')}`;

  it('every cut gives a prefix of the value (an escape cut in two is left out)', () => {
    expect(JSON.parse(line)).toBe(value);
    for (let k = line.indexOf('"') + 1; k < line.length; k++) {
      const got = stringPrefixValue(line.slice(0, k));
      // a cut between the two halves of \ud83d\ude00 leaves the first half alone
      const whole = got.endsWith('\ud83d') ? got.slice(0, -1) : got;
      expect(value.startsWith(whole), `cut at ${k}: ${JSON.stringify(got)}`).toBe(true);
    }
    expect(stringPrefixValue(line.slice(0, -1))).toBe(value);
  });

  it('the scanner takes one JSON string and whitespace, and says where anything else starts', () => {
    const ok = new JsonStringScanner();
    expect(ok.feed(Buffer.from(line)) && ok.feed(Buffer.from('   '))).toBe(true);
    expect(ok.closed).toBe(true);
    for (const [text, at] of [
      ['"a\\qb"', 3],
      ['"a\tb"', 2],
      ['"\\u12g4"', 5],
      ['"a" b', 4],
      ['x', 0],
      ['{"a": 1}', 0],
    ] as const) {
      const s = new JsonStringScanner();
      expect(s.feedText(text), text).toBe(false);
      expect(s.position, text).toBe(at);
    }
    const open = new JsonStringScanner();
    expect(open.feedText('"abc') && !open.closed && open.started).toBe(true);
  });
});
