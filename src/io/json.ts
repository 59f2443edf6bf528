// JSON from files we do not trust. JSON.parse keeps the last of two equal keys without a word, so a second
// `"vocab_size"` or a second tensor entry would silently win; and it builds whatever the text describes, so
// 16 MiB of `[` (8 million nested arrays) costs seconds and gigabytes. One iterative pass (no recursion)
// measures nesting and keys before JSON.parse runs, and finds duplicate keys.
import { CheckpointError } from '../errors.js';
import { type FileKind, readTextOfKind } from './read-file.js';

/**
 * The deepest nesting accepted: serde_json's default recursion limit, so HF's own Rust readers (tokenizers,
 * safetensors) refuse deeper files too. Real files nest 3 to 6 levels.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Entries (object keys and array elements) accepted in a whole file, by kind: a config.json's largest
 * legitimate maps (`id2label` of a 21 843-class model) hold tens of thousands, and JSON.parse of 16 MiB of
 * `0,0,...` would build 8 million; tokenizer files hold a vocabulary (capped by their size).
 */
export const MAX_JSON_ENTRIES: Readonly<Record<FileKind, number>> = {
  config: 2 ** 17,
  tokenizer: Infinity,
  font: Infinity,
  whole: Infinity,
  pointer: 64,
};

export interface JsonScanLimits {
  /** Stop once the top-level object has more keys than this. */
  maxTopLevelKeys?: number;
  /** Stop once the file has more entries (object keys and array elements) than this. */
  maxEntries?: number;
  /** Stop at the first container nested deeper than this (default MAX_JSON_DEPTH). */
  maxDepth?: number;
}

export interface JsonScan {
  /** The first duplicate key, as a path such as `"weight_map"."x"`. */
  duplicate?: string;
  /** Keys of the top-level object seen (the scan stops once it passes `maxTopLevelKeys`). */
  topLevelKeys: number;
  /** Entries seen: object keys and array elements (the scan stops once it passes `maxEntries`). */
  entries: number;
  /** The scan stopped at a container nested deeper than `maxDepth`. */
  tooDeep?: boolean;
}

/**
 * One pass over JSON text (valid or not: run it before JSON.parse) finding the first duplicate key in any
 * object and counting keys and depth, stopping early at a duplicate, past `maxTopLevelKeys` or `maxEntries`, or
 * deeper than `maxDepth`, so that a caller can refuse a huge or deep file before JSON.parse builds it. A
 * number for `limits` is `maxTopLevelKeys`.
 */
export function scanJson(text: string, limits: JsonScanLimits | number = {}): JsonScan {
  const o = typeof limits === 'number' ? { maxTopLevelKeys: limits } : limits;
  const maxTopLevelKeys = o.maxTopLevelKeys ?? Infinity;
  const maxEntries = o.maxEntries ?? Infinity;
  const maxDepth = o.maxDepth ?? MAX_JSON_DEPTH;
  // One frame per open container: an object's keys so far (null for an array) and its path for messages.
  const stack: { keys: Set<string> | null; name: string; expectKey: boolean }[] = [];
  let lastKey = '';
  let topLevelKeys = 0;
  let entries = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its end, skipping escapes.
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        let key: string;
        try {
          key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        } catch {
          key = text.slice(i + 1, j);
        }
        if (top.keys.has(key)) {
          const duplicate = top.name ? `${top.name}.${JSON.stringify(key)}` : JSON.stringify(key);
          return { duplicate, topLevelKeys, entries };
        }
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
        if (++entries > maxEntries) return { topLevelKeys, entries };
        if (stack.length === 1 && ++topLevelKeys > maxTopLevelKeys) return { topLevelKeys, entries };
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      const name = !parent
        ? ''
        : parent.keys
          ? `${parent.name ? `${parent.name}.` : ''}${JSON.stringify(lastKey)}`
          : `${parent.name}[]`;
      if (stack.length >= maxDepth) return { topLevelKeys, entries, tooDeep: true };
      stack.push({ keys: c === 0x7b ? new Set() : null, name, expectKey: true });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
      // An array's elements after its first (its first is counted by nothing: a bound, not a tally).
      if (top && !top.keys && ++entries > maxEntries) return { topLevelKeys, entries };
    }
  }
  return { topLevelKeys, entries };
}

/** The first duplicate key in `text` (valid JSON) as a path such as `"weight_map"."x"`, or undefined. */
export function findDuplicateKey(text: string): string | undefined {
  return scanJson(text).duplicate;
}

/**
 * JSON.parse's message without the excerpt of the text V8 quotes (`Unexpected token 'h', "hf_abc"... is not
 * valid JSON`): a file may be a link to anything (a token file, a key), and its content is not ours to print.
 */
export function jsonSyntaxMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, ' (not valid JSON)').split('\n')[0] ?? m;
}

export interface ParseJsonOptions {
  /** Entries (object keys and array elements) accepted in the whole text (default: no limit). */
  maxEntries?: number;
}

/**
 * JSON.parse of untrusted text: nesting deeper than MAX_JSON_DEPTH, more than `maxEntries` entries and duplicate keys
 * are refused before anything is built. Errors are CheckpointErrors naming `file` that never quote
 * its content.
 */
export function parseJson(text: string, file: string, o: ParseJsonOptions = {}): unknown {
  const scan = scanJson(text, { maxEntries: o.maxEntries });
  if (scan.tooDeep) throw new CheckpointError(`invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`, file);
  if (o.maxEntries !== undefined && scan.entries > o.maxEntries)
    throw new CheckpointError(
      `more than ${o.maxEntries} JSON entries (keys and array elements), far more than such a file holds`,
      file,
    );
  if (scan.duplicate !== undefined)
    throw new CheckpointError(`duplicate key ${scan.duplicate} in the JSON (which one counts is ambiguous)`, file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`invalid JSON (${jsonSyntaxMessage(e)})`, file);
  }
  return value;
}

/** A JSON file of a kind in FILE_LIMITS (regular file, size-capped, UTF-8, bounded nesting and entries, no duplicate keys). */
export function readJsonFile(path: string, kind: FileKind = 'config'): unknown {
  return parseJson(readTextOfKind(path, kind), path, { maxEntries: MAX_JSON_ENTRIES[kind] });
}

/** An own property of a parsed JSON object, or undefined: never a member of Object.prototype ("constructor"). */
export function own(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key))
    return undefined;
  return (value as Record<string, unknown>)[key];
}
