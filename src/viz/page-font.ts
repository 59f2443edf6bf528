// A font for a self-contained HTML page: the CJK font the PNGs use (Noto Sans Hans from the optional
// @embedpdf/fonts-sc, or $SBERT_CJK_FONT), cut down by subset-font (HarfBuzz's hb-subset) to the characters the
// page shows (a few KB for a sentence pair) and inlined as a data: URL, so Chinese is legible on a machine with
// no CJK font installed, offline. Without the optional packages the page falls back to the system's fonts.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { cjkFontFiles } from './font.js';

type SubsetFont = (font: Buffer, text: string, opts: { targetFormat: 'sfnt' }) => Promise<Buffer>;

/** The family name the @font-face rule declares. */
export const PAGE_FONT_FAMILY = 'SbertPageCJK';

// A variable specifier: subset-font is optional, and neither tsc nor a bundler should insist on it.
const SUBSET_FONT = 'subset-font';

async function subsetter(): Promise<SubsetFont | undefined> {
  try {
    return ((await import(SUBSET_FONT)) as { default: SubsetFont }).default;
  } catch {
    return undefined;
  }
}

/**
 * A `@font-face` rule with the subset of the first usable CJK font (OpenType or TrueType, not a collection) that
 * covers `text`'s characters, or '' when no font or no subset-font is available.
 */
export async function embeddedFontFace(text: string): Promise<string> {
  const subset = await subsetter();
  const file = cjkFontFiles().find((f) => ['.otf', '.ttf'].includes(extname(f).toLowerCase()));
  if (!subset || !file) return '';
  try {
    const chars = [...new Set(text)].join('');
    const bytes = await subset(readFileSync(file), chars, { targetFormat: 'sfnt' });
    const otf = bytes.subarray(0, 4).toString('latin1') === 'OTTO';
    const [mime, format] = otf ? ['font/otf', 'opentype'] : ['font/ttf', 'truetype'];
    return `@font-face { font-family: '${PAGE_FONT_FAMILY}'; src: url(data:${mime};base64,${bytes.toString('base64')}) format('${format}'); }`;
  } catch {
    return ''; // a font HarfBuzz cannot subset: the system's fonts it is
  }
}
