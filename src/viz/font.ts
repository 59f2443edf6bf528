// A font that has Chinese glyphs, so token labels never draw as boxes. First choice needs no system font:
// Noto Sans Hans from the optional npm package @embedpdf/fonts-sc (SIL OFL). Then $SBERT_CJK_FONT, then
// the usual system locations (Debian's fonts-wqy-microhei / fonts-noto-cjk, macOS, Windows).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileOfKind } from '../io/read-file.js';
import { canvasModule } from './canvas.js';

/** The name we register the CJK font under, so nothing installed can shadow it. */
const FAMILY = 'SbertCJK';
/** Characters the CJK font lacks (emoji, rare scripts) come from these, then from any installed font. */
const FALLBACK = "'DejaVu Sans', 'Noto Sans', Arial, sans-serif";

const SYSTEM_FONTS = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
  '/System/Library/Fonts/PingFang.ttc',
  '/System/Library/Fonts/STHeiti Light.ttc',
  'C:\\Windows\\Fonts\\msyh.ttc',
  'C:\\Windows\\Fonts\\simhei.ttf',
];

function bundledFont(): string | undefined {
  try {
    // The package exports only its index, which lives in dist/; the fonts sit beside dist/.
    const index = createRequire(import.meta.url).resolve('@embedpdf/fonts-sc');
    const file = join(dirname(index), '..', 'fonts', 'NotoSansHans-Regular.otf');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

export interface LabelFont {
  /** A CSS font-family list for canvas `ctx.font`. */
  family: string;
  /** The CJK font file registered, or null when none was found (CJK labels then depend on luck). */
  file: string | null;
}

let cached: LabelFont | undefined;

/** Font files with Chinese glyphs that exist here, best first: $SBERT_CJK_FONT, the bundled one, system ones. */
export function cjkFontFiles(): string[] {
  const candidates = [process.env.SBERT_CJK_FONT, bundledFont(), ...SYSTEM_FONTS].filter((f): f is string => !!f);
  return candidates.filter((f) => existsSync(f));
}

export function labelFont(): LabelFont {
  if (cached) return cached;
  const fonts = canvasModule().GlobalFonts;
  // Read through src/io (a regular file of at most 64 MiB: SBERT_CJK_FONT=/dev/zero is passed over, not read).
  const register = (file: string): boolean => {
    let bytes: Uint8Array;
    try {
      bytes = readFileOfKind(file, 'font');
    } catch {
      return false;
    }
    return Boolean(fonts.register(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), FAMILY));
  };
  for (const file of cjkFontFiles()) {
    if (register(file)) {
      cached = { family: `${FAMILY}, ${FALLBACK}`, file };
      return cached;
    }
  }
  cached = { family: FALLBACK, file: null };
  return cached;
}
