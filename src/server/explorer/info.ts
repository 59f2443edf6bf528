// `GET /explorer/info`: the model's shape and names, for the page to build its controls from.
import type { FastifyInstance } from 'fastify';
import { ATTRIBUTION_METHODS, DEFAULT_METHOD, DEFAULT_STEPS } from '../../explain/index.js';
import { MAX_EXPLAIN_STEPS } from './explain.js';
import type { ExplorerInfo } from './types.js';

export async function infoRoute(app: FastifyInstance): Promise<void> {
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
      attributionMethods: [DEFAULT_METHOD, ...ATTRIBUTION_METHODS.filter((m) => m !== DEFAULT_METHOD)],
      attributionSteps: { default: DEFAULT_STEPS, max: MAX_EXPLAIN_STEPS },
    };
  });
}
