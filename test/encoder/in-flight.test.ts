// SBERT_GPU_IN_FLIGHT (batches queued on a GPU before the first result is awaited) and SBERT_WEBGPU_DAWN_FLAGS
// (flags for Dawn's create()): the default, a value, and a bad value as a usage error naming the variable.
import { afterEach, expect, it } from 'vitest';
import { dawnFlags } from '../../src/backend/index.js';
import { GPU_BATCHES_IN_FLIGHT, gpuBatchesInFlight } from '../../src/encoder/in-flight.js';
import { UsageError } from '../../src/errors.js';

const saved = { inFlight: process.env.SBERT_GPU_IN_FLIGHT, dawn: process.env.SBERT_WEBGPU_DAWN_FLAGS };
afterEach(() => {
  for (const [k, v] of [
    ['SBERT_GPU_IN_FLIGHT', saved.inFlight],
    ['SBERT_WEBGPU_DAWN_FLAGS', saved.dawn],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

it('SBERT_GPU_IN_FLIGHT: 4 by default, an integer from 1 to 64 when set, else a usage error', () => {
  delete process.env.SBERT_GPU_IN_FLIGHT;
  expect(gpuBatchesInFlight()).toBe(GPU_BATCHES_IN_FLIGHT);
  expect(GPU_BATCHES_IN_FLIGHT).toBe(4);
  process.env.SBERT_GPU_IN_FLIGHT = '8';
  expect(gpuBatchesInFlight()).toBe(8);
  for (const bad of ['0', '65', '2.5', 'many', '-1']) {
    process.env.SBERT_GPU_IN_FLIGHT = bad;
    expect(() => gpuBatchesInFlight()).toThrow(UsageError);
    expect(() => gpuBatchesInFlight()).toThrow(`SBERT_GPU_IN_FLIGHT="${bad}" is not an integer from 1 to 64`);
  }
});

it('SBERT_WEBGPU_DAWN_FLAGS: none by default, else its space-separated flags', () => {
  delete process.env.SBERT_WEBGPU_DAWN_FLAGS;
  expect(dawnFlags()).toEqual([]);
  process.env.SBERT_WEBGPU_DAWN_FLAGS = '  enable-dawn-features=skip_validation,disable_robustness  backend=vulkan ';
  expect(dawnFlags()).toEqual(['enable-dawn-features=skip_validation,disable_robustness', 'backend=vulkan']);
});
