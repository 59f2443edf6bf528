// Probes and metrics, open without the API key: `GET /health` (the process answers: liveness), `GET /ready`
// (the model is loaded and requests are taken: readiness; 503 while loading and once shutting down),
// `GET /metrics` (Prometheus text).
import type { FastifyInstance } from 'fastify';

export async function probeRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.sbert;

  app.get('/health', async (_request, reply) => {
    if (ctx.state === 'failed')
      return reply.code(503).send({ status: 'failed', error: ctx.failure ?? 'unknown error' });
    return { status: 'ok' };
  });

  app.get('/ready', async (_request, reply) => {
    if (ctx.state === 'ready') {
      const { encoder } = ctx.ready();
      return { status: 'ready', model: ctx.modelName, backend: encoder.backend.name, dimension: encoder.dimension };
    }
    if (ctx.state === 'loading') reply.header('Retry-After', '5');
    return reply.code(503).send({ status: ctx.state, ...(ctx.failure ? { error: ctx.failure } : {}) });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
