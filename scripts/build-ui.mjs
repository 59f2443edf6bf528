// Builds the internals explorer's page (src/ui) into dist/ui with esbuild: one JS bundle (Preact, uPlot and the
// colour maps included), one CSS file, index.html. Nothing is fetched at run time from anywhere but the server
// that serves it. Run by `npm run build`.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/ui/main.tsx', style: 'src/ui/style.css' },
  outdir: out,
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  target: ['chrome111', 'firefox113', 'safari16.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(root, 'src', 'ui', 'index.html'), join(out, 'index.html'));
