// PyTorch's attention maps of one tiny-fixture sentence, and PNG pixel access for the picture tests.
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { loadReference } from '../../src/compare/reference.js';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import type { HeadViewData } from '../../src/viz/headview.js';
import type { AttentionMaps } from '../../src/viz/maps.js';
import { fixture } from '../fixtures.js';

/** Sentence `b` of tiny/refs.safetensors, padding cut off: tokens and [heads, n, n] per layer. */
export function referenceMaps(b: number): AttentionMaps {
  const ref = loadReference(fixture('tiny', 'refs.safetensors'));
  const main = ref.groups[0]!;
  const L = main.inputs.length;
  const n = main.inputs.attentionMask.subarray(b * L, (b + 1) * L).reduce((a, m) => a + m, 0);
  const tok = BertTokenizer.fromDir(fixture('tiny', 'hf'));
  const tokens = [...main.inputs.inputIds.subarray(b * L, b * L + n)].map((id) => tok.idToToken(id));
  const layers = main.tensors
    .filter((t) => t.tensor.kind === 'attentions')
    .sort((x, y) => x.key.localeCompare(y.key))
    .map((t) => {
      const H = t.shape[1]!;
      const out = new Float32Array(H * n * n);
      for (let h = 0; h < H; h++) {
        for (let q = 0; q < n; q++)
          for (let k = 0; k < n; k++) out[(h * n + q) * n + k] = t.data[((b * H + h) * L + q) * L + k]!;
      }
      return out;
    });
  return { tokens, layers, heads: 4 };
}

export interface Pixels {
  width: number;
  height: number;
  rgba(x: number, y: number): [number, number, number, number];
}

export async function decodePng(png: Buffer): Promise<Pixels> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, img.width, img.height);
  return {
    width: img.width,
    height: img.height,
    rgba: (x, y) => {
      const o = (y * img.width + x) * 4;
      return [data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!];
    },
  };
}

/** Width and height from the PNG header, after checking the signature. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(sig) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The JSON a head-view page carries. */
export function embeddedData(html: string): HeadViewData & { initialLayer: number; initialHead: number | null } {
  const m = /<script type="application\/json" id="attention-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no attention data in the page');
  return JSON.parse(m[1]!);
}
