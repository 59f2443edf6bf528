// tfjs-backend-wasm's Identity kernel (what `tf.clone` runs) copies the tensor's data; tfjs-backend-cpu's shares it.
// Tensors are immutable, and the wasm backend already shares data between a tensor and its reshapes (reference
// counts), so sharing is as safe here. It matters for gradients: tfjs clones every tensor a gradient tape saves
// for the backward pass, and on wasm each clone was a full copy (about as much memory again as the forward's
// activations, on a heap that ends at 4 GiB); hooks and caches clone what they keep too.
import * as tf from '@tensorflow/tfjs-core';

interface RefCounted {
  incRef(dataId: object): void;
}

let shared = false;

/** Makes the wasm backend's Identity share its input's data; call after tfjs-backend-wasm registered its kernels. */
export function shareWasmIdentity(): void {
  if (shared) return;
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return;
  shared = true;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return original.kernelFunc({ inputs, backend, attrs: {} }) as tf.TensorInfo;
      (backend as unknown as RefCounted).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
