// types/tfjs-core.d.ts (what our published declarations use instead of tfjs-core's) declares real tfjs-core
// functions, and exactly those `sbert-tfjs/internals` re-exports as `tf`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tfc from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import * as tf from '../../src/ops/tf.js';
import { ROOT } from '../fixtures.js';

it("every function the shim declares is tfjs-core's, re-exported as tf", () => {
  const text = readFileSync(join(ROOT, 'types', 'tfjs-core.d.ts'), 'utf8');
  const declared = [...text.matchAll(/^export declare function (\w+)/gm)].map((m) => m[1]!).sort();
  expect(declared.length).toBeGreaterThan(30);
  expect(Object.keys(tf).sort()).toEqual(declared);
  const core = tfc as unknown as Record<string, unknown>;
  for (const name of declared) expect((tf as Record<string, unknown>)[name], name).toBe(core[name]);
});
