// `GET /explorer/info`: the model's shape and names, for the page to build its controls from.
import type { FastifyInstance } from 'fastify';
import type { ExplorerInfo } from './types.js';

export async function infoRoute(app: FastifyInstance, methods: readonly string[]): Promise<void> {
  app.get('/explorer/info', async (): Promise<ExplorerInfo> => {
    const { encoder } = app.sbert.ready();
    const { config } = encoder.loaded;
    return {
      model: app.sbert.modelName,
      modelType: config.modelType ?? 'bert',
      backend: encoder.backend.name,
      layers: config.numHiddenLayers,
      heads: config.numAttentionHeads,
      hidden: config.hiddenSize,
      maxLength: encoder.maxSeqLength,
      pooling: encoder.pooling,
      normalize: encoder.loaded.normalize ?? false,
      hookNames: encoder.model.hookNames(),
      attributionMethods: [...methods],
    };
  });
}
