// A JSONL line that is one JSON string, when it is too long to keep whole: its start is kept as text and its
// rest only checked, byte by byte, to be the rest of that string (then whitespace). Only the JSON grammar of a
// string is needed: escapes, no raw control characters, one closing quote.

const BEFORE = 0; // whitespace before the opening quote
const IN = 1; // inside the string
const ESCAPE = 2; // after a backslash
const HEX = 3; // in the 4 hex digits of \uXXXX
const AFTER = 4; // after the closing quote: whitespace only
const BAD = 5;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

export class JsonStringScanner {
  private state = BEFORE;
  private hex = 0;
  /** Where the scan went wrong, for the message: the count of units read before the bad one. */
  private read = 0;

  /** Reads `units` (bytes, or a string's UTF-16 units: only ASCII ones matter); false once it is not a JSON string. */
  feed(units: ArrayLike<number>): boolean {
    for (let i = 0; i < units.length && this.state !== BAD; i++) this.step(units[i]!);
    return this.state !== BAD;
  }

  feedText(text: string): boolean {
    for (let i = 0; i < text.length && this.state !== BAD; i++) this.step(text.charCodeAt(i));
    return this.state !== BAD;
  }

  private step(c: number): void {
    this.read++;
    switch (this.state) {
      case BEFORE:
        if (c === 0x22) this.state = IN;
        else if (!isSpace(c)) this.state = BAD;
        return;
      case IN:
        if (c === 0x22) this.state = AFTER;
        else if (c === 0x5c) this.state = ESCAPE;
        else if (c < 0x20) this.state = BAD;
        return;
      case ESCAPE:
        if (c === 0x75) [this.state, this.hex] = [HEX, 0];
        else this.state = '"\\/bfnrt'.includes(String.fromCharCode(c)) ? IN : BAD;
        return;
      case HEX:
        if (!isHex(c)) this.state = BAD;
        else if (++this.hex === 4) this.state = IN;
        return;
      case AFTER:
        if (!isSpace(c)) this.state = BAD;
    }
  }

  /** The string has started: an opening quote was read. */
  get started(): boolean {
    return this.state !== BEFORE && this.state !== BAD;
  }

  /** The string was closed (and nothing but whitespace followed). */
  get closed(): boolean {
    return this.state === AFTER;
  }

  /** Units read before the first that broke the grammar (all read, while none has). */
  get position(): number {
    return this.state === BAD ? this.read - 1 : this.read;
  }

  /** UTF-16 units at the end of the text read so far that belong to an escape not finished. */
  get unfinished(): number {
    return this.state === ESCAPE ? 1 : this.state === HEX ? 2 + this.hex : 0;
  }
}

/** The value of the JSON string that `text` (a line cut inside that string) starts: an unfinished escape at the end dropped. */
export function stringPrefixValue(text: string): string {
  const scan = new JsonStringScanner();
  scan.feedText(text);
  const body = text.slice(text.indexOf('"') + 1, text.length - scan.unfinished);
  return JSON.parse(`"${body}"`) as string;
}
