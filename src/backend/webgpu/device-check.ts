// Our WGSL programs are checked against tfjs's kernels before they are used, and a program the driver
// rejects must fail that check rather than read back whatever its output buffer held (zeros, stale data):
// the device's validation errors are captured around the check.
import * as tf from '@tensorflow/tfjs-core';

interface ErrorScopes {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** Runs `f` on the webgpu backend; `error` is the first validation or internal error the device reported. */
export async function withDeviceErrors<T>(f: () => Promise<T>): Promise<{ value: T; error: string | null }> {
  const device = (tf.backend() as unknown as { device?: ErrorScopes }).device;
  if (!device?.pushErrorScope) return { value: await f(), error: null };
  device.pushErrorScope('internal');
  device.pushErrorScope('validation');
  let value: T | undefined;
  let thrown: unknown;
  try {
    value = await f();
  } catch (e) {
    thrown = e ?? new Error('failed');
  }
  // Popped whatever happened, so the scopes stay balanced.
  const validation = await device.popErrorScope();
  const internal = await device.popErrorScope();
  if (thrown !== undefined) throw thrown;
  const e = validation ?? internal;
  return { value: value as T, error: e ? (e.message.split('\n').find((l) => l.trim()) ?? 'device error') : null };
}

/** What checking one of our programs against a reference on the device found. */
export interface DeviceCheck {
  /** Max abs (or, for the matmul, relative) difference; Infinity on a device error. */
  diff: number;
  /** The device's error when it rejected or failed the program. */
  error: string | null;
}

/** How far our programs may be from their reference on the device and still be used. */
export const CHECK_TOLERANCE = 1e-5;

/** True for a check that ran, without a device error, within CHECK_TOLERANCE. */
export function passed(c: DeviceCheck | undefined): boolean {
  return c !== undefined && c.error === null && c.diff <= CHECK_TOLERANCE;
}

/** A max-abs difference as a check may trust it: NaN, negative or infinite readings count as disagreement. */
export function trustedDiff(d: number): number {
  return d >= 0 && Number.isFinite(d) ? d : Infinity;
}
