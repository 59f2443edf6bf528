// Hook points in the spirit of TransformerLens's `HookPoint`: named landmarks declared by each layer
// where it produces a tensor. A layer calls `point.run(t, hooks)`; with no hooks set that returns `t`
// itself (no op, no allocation), so an un-hooked forward costs exactly what a hook-free one would.
// The names are registered as the layers are built, so `BertModel.hookNames()` is generated from the
// model, in data-flow order, never kept as a hand-written list.
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';

export interface HookContext {
  /** The full hook name, e.g. `blocks.3.attn.hook_pattern`. */
  name: string;
  /** The block index for points under `blocks.{i}.`. */
  layer?: number;
}

/** Reads its tensor, or returns a replacement of the same shape (which then flows on in the forward). */
export type HookFn = (t: tf.Tensor, ctx: HookContext) => tf.Tensor | void;

/** Hook functions by full hook name. */
export type Hooks = Record<string, HookFn | readonly HookFn[]>;

/**
 * Hidden states between layers: [B, L, H], or the same as rows [B·L, H] where no hook is set (BertEncoder
 * flattens once: on tfjs-node every reshape is an op). Hook points always see [B, L, H].
 */
export type Hidden = tf.Tensor2D | tf.Tensor3D;

/** What a forward consults at each point; `undefined` when no hooks are set. */
export interface HookRun {
  wants(point: HookPoint): boolean;
  apply<T extends tf.Tensor>(point: HookPoint, t: T): T;
}

/** A hook table entry as a list. */
export function hookList(h: HookFn | readonly HookFn[] | undefined): HookFn[] {
  return h === undefined ? [] : typeof h === 'function' ? [h] : [...h];
}

/** Merges hook tables: functions for the same point run in the order given. */
export function combineHooks(...tables: Hooks[]): Hooks {
  const out: Hooks = {};
  for (const t of tables) for (const [k, v] of Object.entries(t)) out[k] = [...hookList(out[k]), ...hookList(v)];
  return out;
}

export class HookPoint {
  constructor(
    readonly name: string,
    readonly layer?: number,
  ) {}

  run<T extends tf.Tensor>(t: T, hooks: HookRun | undefined): T {
    return hooks ? hooks.apply(this, t) : t;
  }

  /**
   * For a tensor the fast path never materialises (e.g. the position embeddings broadcast to the
   * batch): `make` runs only when a hook is set here; `undefined` means "not hooked, use your own".
   */
  runLazy<T extends tf.Tensor>(make: () => T, hooks: HookRun | undefined): T | undefined {
    return hooks?.wants(this) ? hooks.apply(this, make()) : undefined;
  }
}

/** A name prefix for hook points, like `Weights.scope` for tensors: `hp.scope('blocks.3').point('hook_attn_out')`. */
export class HookScope {
  constructor(
    readonly points: HookPoint[] = [],
    readonly prefix = '',
    readonly layer?: number,
  ) {}

  scope(name: string, layer = this.layer): HookScope {
    return new HookScope(this.points, `${this.prefix}${name}.`, layer);
  }

  /** Declares (registers) the point `name` under this scope. */
  point(name: string): HookPoint {
    const p = new HookPoint(this.prefix + name, this.layer);
    if (this.points.some((q) => q.name === p.name)) throw new Error(`hook point ${p.name} declared twice`);
    this.points.push(p);
    return p;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The hooks of one forward. A hook may return a replacement: it must have the same shape and dtype;
 * it is cloned (no copy: tfjs shares the data) so the forward owns what flows on and a caller's
 * tensor is never disposed by the forward's `tidy` or by a caller disposing the outputs.
 */
export class HookSet implements HookRun {
  private readonly fns = new Map<string, readonly HookFn[]>();

  constructor(hooks: Hooks, known: readonly HookPoint[]) {
    const names = new Set(known.map((p) => p.name));
    for (const [name, fn] of Object.entries(hooks)) {
      if (!names.has(name)) {
        throw new UsageError(`unknown hook point "${name}" (BertModel.hookNames() lists the ${names.size} points)`);
      }
      this.fns.set(name, typeof fn === 'function' ? [fn] : fn);
    }
  }

  get size(): number {
    return this.fns.size;
  }

  wants(point: HookPoint): boolean {
    return this.fns.has(point.name);
  }

  apply<T extends tf.Tensor>(point: HookPoint, t: T): T {
    const fns = this.fns.get(point.name);
    if (!fns) return t;
    const ctx: HookContext =
      point.layer === undefined ? { name: point.name } : { name: point.name, layer: point.layer };
    let cur: T = t;
    for (const fn of fns) {
      const out = fn(cur, ctx);
      if (out === undefined || out === cur) continue;
      if (!(out instanceof tf.Tensor))
        throw new UsageError(`hook ${point.name} returned something that is not a tensor`);
      if (!sameShape(out.shape, cur.shape) || out.dtype !== cur.dtype) {
        throw new UsageError(
          `hook ${point.name} returned a ${out.dtype} tensor of shape [${out.shape}], expected ${cur.dtype} [${cur.shape}]`,
        );
      }
      if (out.isDisposed) throw new UsageError(`hook ${point.name} returned a disposed tensor`);
      cur = tf.clone(out) as T;
    }
    return cur;
  }
}
