// JSON from files we do not trust: JSON.parse keeps the last of two equal keys without a word, so a second
// `"vocab_size"` or a second tensor entry would silently win. Every object is checked for duplicate keys, in
// one iterative pass (no recursion: nesting depth cannot overflow the stack).
import { CheckpointError } from '../errors.js';
import { type FileKind, readTextOfKind } from './read-file.js';

export interface JsonScan {
  /** The first duplicate key, as a path such as `"weight_map"."x"`. */
  duplicate?: string;
  /** Keys of the top-level object seen (the scan stops once it passes `maxTopLevelKeys`). */
  topLevelKeys: number;
}

/**
 * One pass over JSON text (assumed valid: parse it too) finding the first duplicate key in any object and
 * counting the top-level object's keys, stopping early at a duplicate or past `maxTopLevelKeys`, so that a
 * caller can refuse a huge header before JSON.parse builds it.
 */
export function scanJson(text: string, maxTopLevelKeys = Infinity): JsonScan {
  // One frame per open container: an object's keys so far (null for an array) and its path for messages.
  const stack: { keys: Set<string> | null; name: string; expectKey: boolean }[] = [];
  let lastKey = '';
  let topLevelKeys = 0;
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
        if (top.keys.has(key))
          return { duplicate: top.name ? `${top.name}.${JSON.stringify(key)}` : JSON.stringify(key), topLevelKeys };
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
        if (stack.length === 1 && ++topLevelKeys > maxTopLevelKeys) return { topLevelKeys };
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      const name = !parent
        ? ''
        : parent.keys
          ? `${parent.name ? `${parent.name}.` : ''}${JSON.stringify(lastKey)}`
          : `${parent.name}[]`;
      stack.push({ keys: c === 0x7b ? new Set() : null, name, expectKey: true });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return { topLevelKeys };
}

/** The first duplicate key in `text` (valid JSON) as a path such as `"weight_map"."x"`, or undefined. */
export function findDuplicateKey(text: string): string | undefined {
  return scanJson(text).duplicate;
}

/** JSON.parse that refuses duplicate keys; errors are CheckpointErrors naming `file`. */
export function parseJson(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`invalid JSON (${(e as Error).message})`, file);
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined)
    throw new CheckpointError(`duplicate key ${dup} in the JSON (which one counts is ambiguous)`, file);
  return value;
}

/** A JSON file of a kind in FILE_LIMITS (regular file, size-capped, UTF-8, no duplicate keys). */
export function readJsonFile(path: string, kind: FileKind = 'config'): unknown {
  return parseJson(readTextOfKind(path, kind), path);
}

/** An own property of a parsed JSON object, or undefined: never a member of Object.prototype ("constructor"). */
export function own(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key))
    return undefined;
  return (value as Record<string, unknown>)[key];
}
