// The HTTP server's public surface: start one (or build its app around your own encoder), and the pieces a
// new route plugin uses (`app.sbert`, the error shapes).
export { startServer, buildApp, SERVER_DEFAULTS, type ServerOptions, type SbertServer } from './server.js';
export { runServer, type RunHooks } from './run.js';
export { ServerContext, type ServerLimits, type ServerState, type EmbedOptions, type EmbedResult } from './context.js';
export { ApiError, type ApiErrorDetails, type TeiErrorType } from './errors.js';
export { useErrorShape, clientGone, vectorJson, vectorBase64, type ErrorShape } from './http.js';
export { Batcher, type BatcherOptions, type BatchStats } from './batcher.js';
export { inProcessExecutor, workerExecutor, type Executor } from './executor.js';
// The internals explorer (`sbert serve --ui`): its page and JSON routes as plugins, and the JSON's types.
export { explorerPage, explorerPlugins, explorerRoutes, uiDir } from './explorer/index.js';
export type * from './explorer/types.js';
