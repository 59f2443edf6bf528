// tfjs-webgpu keeps every released GPU buffer in a free pool keyed by (size, usage) and never lets go.
// Sentences of many lengths make many sizes, so a long encode piles up buffers until Vulkan refuses to
// allocate (seen on an H200 after ~2 000 sentences). Trimming the pool now and then keeps it bounded.
import * as tf from '@tensorflow/tfjs-core';

interface GpuBuffer {
  size: number;
  destroy(): void;
}
interface BufferManager {
  freeBuffers: Map<string, GpuBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/** Destroys the webgpu backend's pooled free buffers once there are more than `maxFree`; elsewhere a no-op. */
export function trimGpuBufferPool(maxFree = 512): number {
  if (tf.getBackend() !== 'webgpu') return 0;
  const bm = (tf.backend() as unknown as { bufferManager?: BufferManager }).bufferManager;
  if (!bm || !(bm.freeBuffers instanceof Map) || bm.numFreeBuffers <= maxFree) return 0;
  let n = 0;
  // Empty the lists but keep the keys: the manager treats an empty map as "disposed".
  for (const list of bm.freeBuffers.values()) {
    for (const b of list.splice(0)) {
      bm.numBytesAllocated -= b.size;
      b.destroy();
      n++;
    }
  }
  bm.numFreeBuffers = 0;
  return n;
}
