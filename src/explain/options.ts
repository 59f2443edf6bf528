// The attribution methods by name and the checks of explain's options, apart from the code that runs them: the CLI
// lists and checks them before it loads tfjs or the model.
import { UsageError } from '../errors.js';

export type AttributionMethod = 'gradient' | 'gradient_x_input' | 'integrated_gradients' | 'attention_rollout';
export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = [
  'gradient',
  'gradient_x_input',
  'integrated_gradients',
  'attention_rollout',
];
export const DEFAULT_METHOD: AttributionMethod = 'integrated_gradients';
export const MAX_STEPS = 10_000;

export function checkSteps(steps: number): void {
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= MAX_STEPS)) {
    throw new UsageError(`steps must be an integer in 1..${MAX_STEPS}, got ${steps}`);
  }
}

/** Checks `opts` (before any work: the CLI calls it before it loads the model) and returns the method. */
export function checkExplainOptions(opts: { method?: AttributionMethod; steps?: number }): AttributionMethod {
  const method = opts.method ?? DEFAULT_METHOD;
  if (!ATTRIBUTION_METHODS.includes(method)) {
    throw new UsageError(`unknown method "${method}" (choose from ${ATTRIBUTION_METHODS.join(', ')})`);
  }
  if (opts.steps !== undefined) checkSteps(opts.steps);
  return method;
}
