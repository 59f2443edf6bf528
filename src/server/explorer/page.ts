// The explorer's page and its assets: `GET /` (dist/ui/index.html), `GET /ui/*` (the bundle esbuild built from
// src/ui at `npm run build`), and a CJK font (the one the attention PNGs use) so Chinese labels are legible on a
// machine without one. Everything is local: the page's Content-Security-Policy lets it load nothing from
// elsewhere, so it works offline.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { labelFont } from '../../viz/font.js';

/** dist/ui of this package, from src/server/explorer (tests) or dist/src/server/explorer (the build) alike. */
export function uiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sbert-tfjs') {
      return join(dir, 'dist', 'ui');
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no sbert-tfjs package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** CJK blocks: the browser fetches the font only for pages that show such characters. */
const CJK_RANGES =
  'U+2E80-2FDF, U+3000-303F, U+3040-30FF, U+3100-312F, U+3190-31FF, U+3200-33FF, U+3400-4DBF, U+4E00-9FFF, ' +
  'U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF, U+20000-2FA1F';

/** The CJK font file the attention pictures use, if it is one a browser takes (not a .ttc collection). */
function cjkFont(): string | undefined {
  try {
    const file = labelFont().file;
    return file && ['.otf', '.ttf'].includes(extname(file).toLowerCase()) ? file : undefined;
  } catch {
    return undefined; // no @napi-rs/canvas: the system's fonts it is
  }
}

/** Serves the page; `dir` holds the built bundle (default: this package's dist/ui). */
export async function explorerPage(app: FastifyInstance, dir = uiDir()): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) {
    const why = `the explorer's page is not built (no ${join(dir, 'index.html')}): run npm run build`;
    app.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(`${why}\n`));
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/ui/', index: false, maxAge: 0 });
  app.get('/', async (_request, reply) =>
    reply
      .header('Content-Security-Policy', CSP)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-cache')
      .sendFile('index.html'),
  );
  const font = cjkFont();
  app.get('/ui/fonts.css', async (_request, reply) => {
    const css = font
      ? `@font-face { font-family: 'SbertCJK'; src: url('fonts/cjk${extname(font)}'); unicode-range: ${CJK_RANGES}; font-display: swap; }\n`
      : '/* no CJK font on the server: the system fonts are used */\n';
    return reply.type('text/css; charset=utf-8').header('Cache-Control', 'no-cache').send(css);
  });
  if (font) {
    app.get(`/ui/fonts/cjk${extname(font)}`, async (_request, reply) =>
      reply.sendFile(basename(font), dirname(font), { maxAge: 86_400_000 }),
    );
  }
}
