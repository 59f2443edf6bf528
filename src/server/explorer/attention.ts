// `POST /explorer/attention {text, layer?}`: without `layer`, a small picture of every head (the layer × head
// grid); with it, that layer's full [heads, L, L] probabilities (a head opened large, the head view). The maps
// of the last sentence asked for are kept, so opening one head after another runs the model once.
import type { FastifyInstance } from 'fastify';
import type { SentenceEncoder } from '../../encoder/sentence-encoder.js';
import { attentionMaps } from '../../viz/extract.js';
import type { AttentionMaps } from '../../viz/maps.js';
import { bodyObject, indexField, sentenceOf, wireTensor } from './input.js';
import type { AttentionLayer, AttentionOverview } from './types.js';

/** Thumbnails are at most this many cells a side. */
export const THUMBNAIL = 48;

/**
 * [L, L] → [n, n]: each cell the largest value in its block of rows and columns (a sharp pattern stays visible
 * in a long input, where a block mean would dilute it).
 */
export function maxPool(map: Float32Array, L: number, n: number, out: Float32Array, at: number): void {
  const edge = (i: number) => Math.floor((i * L) / n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      let m = 0;
      for (let q = edge(r); q < Math.max(edge(r + 1), edge(r) + 1); q++) {
        for (let k = edge(c); k < Math.max(edge(c + 1), edge(c) + 1); k++) m = Math.max(m, map[q * L + k]!);
      }
      out[at + r * n + c] = m;
    }
  }
}

/** The maps of the last text, so that a head or layer opened next needs no forward. */
class LastMaps {
  private key?: string;
  private maps?: Promise<AttentionMaps>;

  get(encoder: SentenceEncoder, text: string): Promise<AttentionMaps> {
    if (this.key !== text || !this.maps) {
      this.key = text;
      this.maps = attentionMaps(encoder.model, encoder.tokenizer, text, { maxLength: encoder.maxSeqLength });
      this.maps.catch(() => (this.maps = undefined));
    }
    return this.maps;
  }
}

export async function attentionRoute(app: FastifyInstance): Promise<void> {
  const last = new LastMaps();
  app.post('/explorer/attention', async (request): Promise<AttentionOverview | AttentionLayer> => {
    const body = bodyObject(request.body);
    const { encoder } = app.sbert.ready();
    const { text } = sentenceOf(encoder, body.text, 'text');
    const { numHiddenLayers: layers, numAttentionHeads: heads } = encoder.loaded.config;
    const layer = body.layer === undefined ? undefined : indexField(body, 'layer', layers, 'layer');
    const m = await last.get(encoder, text);
    const L = m.tokens.length;
    if (layer !== undefined) {
      return { tokens: m.tokens, layer, attention: wireTensor(m.layers[layer]!, [heads, L, L]) };
    }
    const n = Math.min(L, THUMBNAIL);
    const thumbs = new Float32Array(layers * heads * n * n);
    m.layers.forEach((maps, l) => {
      for (let h = 0; h < heads; h++) {
        maxPool(maps.subarray(h * L * L, (h + 1) * L * L), L, n, thumbs, (l * heads + h) * n * n);
      }
    });
    return { tokens: m.tokens, layers, heads, size: n, thumbnails: wireTensor(thumbs, [layers, heads, n, n]) };
  });
}
