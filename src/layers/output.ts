// BertOutput (modeling_bert.py): dense I → H, then LayerNorm(dense + residual) — TransformerLens's BertBlock:
// `hook_mlp_out` (dense), `hook_resid_post` = normalized_resid_mid + mlp_out, `ln2.*`, `hook_normalized_resid_post`.
import { linearAddIsOneKernel } from '../backend/kernels.js';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';

export class BertOutput {
  private constructor(
    readonly dense: Linear,
    readonly hookMlpOut: HookPoint,
    readonly hookResidPost: HookPoint,
    readonly layerNorm: LayerNorm,
    readonly hookNormalizedResidPost: HookPoint,
  ) {}

  /** `w`: `encoder.layer.{i}.output`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertOutput {
    return new BertOutput(
      Linear.load(w.scope('dense'), c.intermediateSize, c.hiddenSize),
      hp.point('hook_mlp_out'), // [B, L, H]
      hp.point('hook_resid_post'), // [B, L, H]
      LayerNorm.load(w.scope('LayerNorm'), c.hiddenSize, c.layerNormEps, hp.scope('ln2')),
      hp.point('hook_normalized_resid_post'), // [B, L, H] = HF hidden_states[i + 1]
    );
  }

  /** intermediate: [B, L, I]; residual (normalized_resid_mid): [B, L, H] → [B, L, H] (or all as rows [B·L, ·]) */
  forward<T extends Hidden>(intermediate: T, residual: T, hooks?: HookRun): T {
    // Where the backend adds the residual in the matmul, one op for dense + add unless a hook reads a point between
    // them (as in BertSelfOutput).
    if (linearAddIsOneKernel() && !hooks?.wants(this.hookMlpOut) && !hooks?.wants(this.hookResidPost))
      return this.hookNormalizedResidPost.run(
        this.layerNorm.forward(this.dense.forwardAdding(intermediate, residual), undefined, hooks),
        hooks,
      );
    const mlpOut = this.hookMlpOut.run(this.dense.forward(intermediate), hooks);
    // The sum is a tensor of its own only when a hook wants it; otherwise it rides in the LayerNorm.
    const normed = hooks?.wants(this.hookResidPost)
      ? this.layerNorm.forwardAfter([this.hookResidPost], mlpOut, residual, hooks)
      : this.layerNorm.forward(mlpOut, residual, hooks);
    return this.hookNormalizedResidPost.run(normed, hooks);
  }

  dispose(): void {
    this.dense.dispose();
    this.layerNorm.dispose();
  }
}
