#!/usr/bin/env node
// After `tsc`: points the published declarations (dist/src/**/*.d.ts) at types/tfjs-core.d.ts instead of
// @tensorflow/tfjs-core, whose own declarations do not type-check without skipLibCheck (see that file), and
// copies it to dist/types/. The JavaScript is untouched: at run time it is tfjs-core itself.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--dist DIR`: a build elsewhere (the consumer test packs its own); default dist/.
const at = process.argv.indexOf('--dist');
const dist = at > 0 ? process.argv[at + 1] : join(root, 'dist');
const shim = join(dist, 'types', 'tfjs-core.d.ts');
mkdirSync(dirname(shim), { recursive: true });
copyFileSync(join(root, 'types', 'tfjs-core.d.ts'), shim);

const specifier = /(from\s+|import\()'@tensorflow\/tfjs-core'/g;
let files = 0;
for (const entry of readdirSync(join(dist, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  if (!text.includes("'@tensorflow/tfjs-core'")) continue;
  let rel = relative(dirname(file), shim)
    .split('\\')
    .join('/')
    .replace(/\.d\.ts$/, '.js');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  writeFileSync(file, text.replace(specifier, `$1'${rel}'`));
  files++;
}
if (process.argv.includes('--verbose'))
  console.log(`types-shim: ${files} declaration files point at ${relative(root, shim)}`);
