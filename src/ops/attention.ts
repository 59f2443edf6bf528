// Scaled dot-product attention from tfjs ops, as HF's eager attention computes it: scores = Q·Kᵀ · scale + the
// additive mask, softmax over keys, probabilities · V. Heads stay apart ([B, L, heads, d] in and out, the hook
// points' view). The backend's attention op runs this wherever its fused program does not apply.
import * as tf from '@tensorflow/tfjs-core';

/** Sees the scores or probabilities [B, heads, L, L] as they are made; may return a replacement of the same shape. */
export type AttentionTap = (t: tf.Tensor4D) => tf.Tensor4D;

/**
 * q, k, v: [B, L, heads, d]; mask: additive [B, 1, 1, L] (0, or float32's min on padding) → z [B, L, heads, d] and
 * the probabilities [B, heads, L, L] (after `onProbs`). `scale` multiplies the scores (HF: d^-½).
 */
export function attentionComposite(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D,
  scale: number,
  onScores: AttentionTap = (t) => t,
  onProbs: AttentionTap = (t) => t,
): { z: tf.Tensor4D; probs: tf.Tensor4D } {
  const heads = (t: tf.Tensor4D) => tf.transpose(t, [0, 2, 1, 3]); // [B, L, heads, d] → [B, heads, L, d]
  const [qh, kh, vh] = [heads(q), heads(k), heads(v)];
  // torch multiplies by the Python float d^-½, which it rounds to float32 first, as tf.mul does.
  // The [B, heads, L, L] temporaries are freed as soon as the next one exists: at 32 × 512 tokens each is
  // 400 MB, and wasm32's heap ends at 4 GiB.
  const raw = tf.matMul(qh, kh, false, true);
  const scaled = tf.mul(raw, scale);
  raw.dispose();
  const masked = tf.add(scaled, mask) as tf.Tensor4D;
  scaled.dispose();
  const scores = onScores(masked);
  const probs = onProbs(tf.softmax(scores)); // [B, heads, L, L]
  if (scores !== probs) scores.dispose();
  if (masked !== scores && masked !== probs) masked.dispose();
  const z = tf.transpose(tf.matMul(probs, vh), [0, 2, 1, 3]) as tf.Tensor4D; // [B, L, heads, d]
  tf.dispose([qh, kh, vh]);
  return { z, probs };
}
