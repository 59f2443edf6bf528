// The internals explorer (`sbert serve --ui`, `sbert explore`): the page (public, like the probes) and its JSON
// routes (behind the API key, like the other API routes), as plugins for `startServer`.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { useErrorShape } from '../http.js';
import { attentionRoute } from './attention.js';
import { explainRoute } from './explain.js';
import { hookRoute } from './hook.js';
import { infoRoute } from './info.js';
import { explorerPage } from './page.js';
import { similarityRoute } from './similarity.js';
import { tokensRoute } from './tokens.js';

export type * from './types.js';
export { explorerPage, uiDir } from './page.js';

/** The JSON routes under `/explorer/`, errors in text-embeddings-inference's shape `{error, error_type}`. */
export async function explorerRoutes(app: FastifyInstance): Promise<void> {
  useErrorShape(app, 'tei');
  await infoRoute(app);
  await tokensRoute(app);
  await similarityRoute(app);
  await attentionRoute(app);
  await hookRoute(app);
  await explainRoute(app);
}

/** For `startServer`: `{ plugins, publicPlugins }` that add the explorer to a server. */
export function explorerPlugins(opts: { uiDir?: string } = {}): {
  plugins: FastifyPluginAsync[];
  publicPlugins: FastifyPluginAsync[];
} {
  return { plugins: [explorerRoutes], publicPlugins: [(app) => explorerPage(app, opts.uiDir)] };
}
