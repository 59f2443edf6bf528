// A server for the life of the process: start, report, and on SIGTERM or SIGINT finish the requests in flight,
// refuse new ones and return (the CLI then exits 0). A second signal stops at once (exit 1).
import { startServer, type ServerOptions, type SbertServer } from './server.js';

export interface RunHooks {
  /** Human status lines (the CLI writes them to stderr as `sbert: ...`). */
  status?: (line: string) => void;
  /** Called once the server listens, before the model is loaded. */
  onListening?: (server: SbertServer) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export async function runServer(opts: ServerOptions, hooks: RunHooks = {}): Promise<void> {
  const say = hooks.status ?? (() => {});
  let onSignal: (sig: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (onSignal = resolve));
  const handlers = SIGNALS.map((sig) => {
    const h = () => onSignal(sig);
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const server = await startServer(opts);
    hooks.onListening?.(server);
    say(`listening on ${server.url} (loading ${server.context.modelName})`);
    const first = await Promise.race([server.ready.then(() => undefined), stopped]).catch(async (e: unknown) => {
      await server.shutdown();
      throw e;
    });
    if (first === undefined) {
      const { encoder } = server.context.ready();
      const where = server.context.batcher ? `, batch size ${server.context.limits.batchSize}` : '';
      say(`ready: ${server.context.modelName} (${encoder.backend.name}${where}) on ${server.url}`);
    }
    const sig = first ?? (await stopped);
    // A second signal means now.
    for (const [s, h] of handlers) process.off(s, h);
    const force = (s: string) => {
      say(`${s} again: stopping now`);
      process.exit(1);
    };
    for (const s of SIGNALS) process.once(s, force);
    const n = server.context.inFlight;
    say(`${sig}: finishing ${n} request${n === 1 ? '' : 's'} in flight, refusing new ones`);
    await server.shutdown();
    for (const s of SIGNALS) process.off(s, force);
    say('stopped');
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}
