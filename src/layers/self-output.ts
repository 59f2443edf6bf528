// BertSelfOutput (modeling_bert.py): dense, then LayerNorm(dense + residual) — TransformerLens's BertBlock names the
// pieces: `hook_attn_out` (dense), `hook_resid_mid` = resid_pre + attn_out, `hook_mlp_in` (= resid_mid, the MLP
// side's input before ln1) and `ln1.*`.
import { linearAddIsOneKernel } from '../backend/kernels.js';
import type { BertConfig } from '../loader/config.js';
import type { Weights } from '../loader/weights.js';
import type { Hidden, HookPoint, HookRun, HookScope } from './hook.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';

export class BertSelfOutput {
  private constructor(
    readonly dense: Linear,
    readonly hookAttnOut: HookPoint,
    readonly hookResidMid: HookPoint,
    readonly hookMlpIn: HookPoint,
    readonly layerNorm: LayerNorm,
  ) {}

  /** `w`: `encoder.layer.{i}.attention.output`; `hp`: `blocks.{i}`. */
  static load(w: Weights, c: BertConfig, hp: HookScope): BertSelfOutput {
    const H = c.hiddenSize;
    return new BertSelfOutput(
      Linear.load(w.scope('dense'), H, H),
      hp.point('hook_attn_out'), // [B, L, H]
      hp.point('hook_resid_mid'), // [B, L, H]
      hp.point('hook_mlp_in'), // [B, L, H]
      LayerNorm.load(w.scope('LayerNorm'), H, c.layerNormEps, hp.scope('ln1')),
    );
  }

  /** context (heads merged), residual (the block's input): [B, L, H] or rows → normalized_resid_mid, same shape */
  forward<T extends Hidden>(context: T, residual: T, hooks?: HookRun): T {
    // Where the backend adds the residual in the matmul, one op for dense + add unless a hook reads a point between
    // them: the numbers then depend on which points are hooked, not on whether any hook is set elsewhere.
    const between = [this.hookAttnOut, this.hookResidMid, this.hookMlpIn];
    if (linearAddIsOneKernel() && !between.some((p) => hooks?.wants(p)))
      return this.layerNorm.forward(this.dense.forwardAdding(context, residual), undefined, hooks);
    const attnOut = this.hookAttnOut.run(this.dense.forward(context), hooks);
    // The sum is a tensor of its own only when a hook wants it; otherwise it rides in the LayerNorm.
    if (!hooks?.wants(this.hookResidMid) && !hooks?.wants(this.hookMlpIn))
      return this.layerNorm.forward(attnOut, residual, hooks);
    return this.layerNorm.forwardAfter([this.hookResidMid, this.hookMlpIn], attnOut, residual, hooks);
  }

  dispose(): void {
    this.dense.dispose();
    this.layerNorm.dispose();
  }
}
