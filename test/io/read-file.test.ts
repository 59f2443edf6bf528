// src/io: the one way the project reads files it is given. Regular files only (a FIFO never blocks the open),
// size caps that hold for files whose size the kernel does not know, strict UTF-8 and JSON.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, InputError } from '../../src/errors.js';
import {
  findDuplicateKey,
  MAX_JSON_DEPTH,
  MAX_JSON_ENTRIES,
  own,
  parseJson,
  readJsonFile,
  scanJson,
} from '../../src/io/json.js';
import { formatSize, openInputStream, readRegularFile, readTextFile } from '../../src/io/read-file.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sbert-io-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readRegularFile', () => {
  it('reads a regular file, and one through a link', () => {
    writeFileSync(join(tmp, 'a.txt'), 'hello');
    symlinkSync(join(tmp, 'a.txt'), join(tmp, 'link.txt'));
    expect(readTextFile(join(tmp, 'a.txt'), { maxBytes: 5 })).toBe('hello');
    expect(readTextFile(join(tmp, 'link.txt'), { maxBytes: 5 })).toBe('hello');
  });

  it('refuses FIFOs, devices, folders, loops and missing files by name, without blocking', () => {
    execFileSync('mkfifo', [join(tmp, 'fifo')]);
    mkdirSync(join(tmp, 'dir'));
    symlinkSync(join(tmp, 'loop2'), join(tmp, 'loop1'));
    symlinkSync(join(tmp, 'loop1'), join(tmp, 'loop2'));
    const msg = (p: string) => {
      try {
        readRegularFile(p, { maxBytes: 100 });
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg(join(tmp, 'fifo'))).toBe(`${join(tmp, 'fifo')}: is a FIFO (named pipe), expected a regular file`);
    expect(msg('/dev/zero')).toBe('/dev/zero: is a character device, expected a regular file');
    expect(msg(join(tmp, 'dir'))).toBe(`${join(tmp, 'dir')}: is a directory, expected a regular file`);
    expect(msg(join(tmp, 'loop1'))).toBe(`${join(tmp, 'loop1')}: symbolic link loop`);
    expect(msg(join(tmp, 'nope'))).toBe(`${join(tmp, 'nope')}: no such file`);
    expect(() => openInputStream('/dev/zero')).toThrow('/dev/zero: is a character device, expected a regular file');
  });

  it('caps sizes, also for files whose size stat does not know (/proc)', () => {
    writeFileSync(join(tmp, 'big'), Buffer.alloc(3000, 0x61));
    expect(() => readRegularFile(join(tmp, 'big'), { maxBytes: 2048, what: 'config file' })).toThrow(
      `${join(tmp, 'big')}: is 2.9 KiB, more than the 2 KiB allowed for a config file`,
    );
    // /proc/self/maps reports size 0 and holds more than 16 bytes.
    expect(() => readRegularFile('/proc/self/maps', { maxBytes: 16 })).toThrow(
      '/proc/self/maps: is larger than the 16 bytes allowed',
    );
    expect(new TextDecoder().decode(readRegularFile('/proc/self/status', { maxBytes: 1 << 20 }))).toMatch(/^Name:/);
    expect(formatSize(17 * 2 ** 20)).toBe('17 MiB');
  });

  it('invalid UTF-8 is an error naming the file', () => {
    writeFileSync(join(tmp, 'bad.txt'), Uint8Array.of(0x61, 0xc3, 0x28));
    expect(() => readTextFile(join(tmp, 'bad.txt'), { maxBytes: 10 })).toThrow(
      `${join(tmp, 'bad.txt')}: is not valid UTF-8 text`,
    );
  });
});

describe('strict JSON', () => {
  it('finds a duplicate key at any depth, with its path; none in valid JSON without one', () => {
    expect(findDuplicateKey('{"a": 1, "b": {"c": [1, {"d": 1, "d": 2}]}}')).toBe('"b"."c"[]."d"');
    expect(findDuplicateKey('{"a": 1, "a": 2}')).toBe('"a"');
    expect(findDuplicateKey('{"a\\u0062": 1, "ab": 2}')).toBe('"ab"');
    expect(findDuplicateKey('{"a": "x,\\"a\\": 1", "b": ["a", "a"], "c": {"a": 1}}')).toBeUndefined();
    expect(scanJson(`{${Array.from({ length: 10 }, (_, i) => `"k${i}": 1`).join(',')}}`, 4)).toEqual({
      topLevelKeys: 5,
      entries: 5,
    });
    expect(() => parseJson('{"x": 1, "x": 1}', 'f.json')).toThrow(
      new CheckpointError('duplicate key "x" in the JSON (which one counts is ambiguous)', 'f.json'),
    );
    expect(() => parseJson('{"x": ', 'f.json')).toThrow(/^f\.json: invalid JSON \(/);
    writeFileSync(join(tmp, 'c.json'), '{"k": [1, 2]}');
    expect(readJsonFile(join(tmp, 'c.json'))).toEqual({ k: [1, 2] });
  });

  // Issue 14, kind 3: JSON.parse builds whatever the text describes; 15 MB of `[` took 35 s and 2 GB in
  // `sbert inspect`, 1.3 million keys 18 s. Depth and entries are measured before anything is built.
  it('refuses nesting deeper than 128 and too many entries before JSON.parse, whatever the shape', () => {
    const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
    expect(MAX_JSON_DEPTH).toBe(128);
    // 128 levels are serde_json's limit too (HF's readers): accepted; 129 are not, arrays or objects, even
    // in text that is not valid JSON at all (never closed) and even millions deep.
    expect(parseJson(deep(128, '[', ']'), 'f.json')).toBeInstanceOf(Array);
    const tooDeep = new CheckpointError('invalid JSON: nested deeper than 128 levels', 'f.json');
    for (const text of [
      deep(129, '[', ']'),
      deep(129, '{"a":', '}'),
      `{"a": [${deep(200, '{"b": [', ']}')}]}`,
      '['.repeat(5_000_000),
      `{"s": "${'['.repeat(1000)}", "x": ${deep(129, '[', ']')}}`,
    ])
      expect(() => parseJson(text, 'f.json')).toThrow(tooDeep);
    // brackets inside strings are not nesting
    expect(parseJson(`{"s": "${'['.repeat(1000)}"}`, 'f.json')).toEqual({ s: '['.repeat(1000) });
    // entries: object keys and array elements, counted across the whole file
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}": 0`).join(',')}}`;
    const elements = (n: number) => `{"x": [${Array.from({ length: n }, () => '0').join(',')}]}`;
    expect(() => parseJson(keys(101), 'f.json', { maxEntries: 100 })).toThrow(/^f\.json: more than 100 JSON entries/);
    expect(() => parseJson(elements(101), 'f.json', { maxEntries: 100 })).toThrow(/more than 100 JSON entries/);
    expect(() => parseJson(`{"a": {"b": ${keys(60)}, "c": ${keys(60)}}}`, 'f.json', { maxEntries: 100 })).toThrow(
      /more than 100 JSON entries/,
    );
    expect(parseJson(elements(99), 'f.json', { maxEntries: 100 })).toEqual({ x: new Array(99).fill(0) });
    // a config.json's budget holds a 21 843-class id2label + label2id
    const labels = Array.from({ length: 21_843 }, (_, i) => i);
    writeFileSync(
      join(tmp, 'labels.json'),
      JSON.stringify({ id2label: Object.fromEntries(labels.map((i) => [i, `L${i}`])), label2id: {} }),
    );
    expect(Object.keys(own(readJsonFile(join(tmp, 'labels.json')), 'id2label') as object)).toHaveLength(21_843);
    writeFileSync(join(tmp, 'wide.json'), elements(MAX_JSON_ENTRIES.config + 1));
    expect(() => readJsonFile(join(tmp, 'wide.json'))).toThrow(/wide\.json: more than 131072 JSON entries/);
  });

  // A file may be a link to anything (a token file, a key): JSON.parse's excerpt of it is never printed.
  it('syntax errors never quote the file', () => {
    for (const text of ['hf_SeCrEtToKeN0123456789', 'SHELL=/bin/bash\0HF_TOKEN=hf_x', '{"a": 1} hf_SeCrEt'])
      try {
        parseJson(text, 'f.json');
        expect.unreachable();
      } catch (e) {
        expect((e as Error).message).toMatch(/^f\.json: invalid JSON \(/);
        expect((e as Error).message).not.toMatch(/SeCrEt|SHELL|bin/);
      }
  });

  it('own() never reads Object.prototype', () => {
    const parsed = JSON.parse('{"__proto__": 5, "a": 1}') as unknown;
    expect(own(parsed, 'constructor')).toBeUndefined();
    expect(own(parsed, 'toString')).toBeUndefined();
    expect(own(parsed, '__proto__')).toBe(5);
    expect(own(parsed, 'a')).toBe(1);
    expect(own([1], '0')).toBeUndefined();
  });
});
