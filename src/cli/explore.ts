// `sbert explore`: `sbert serve --ui` for a person at a browser: the same flags, request logs off (warnings
// only), and the explorer's URL on stdout once the model is loaded.
import type { Command } from 'commander';
import { addServeOptions, type ServeCliOptions, serveWith } from './serve.js';

export function register(program: Command): void {
  addServeOptions(
    program
      .command('explore')
      .description('the internals explorer: a web page with tokens, attention, per-layer similarity, ablation, hooks'),
    'warn',
  ).action((o: ServeCliOptions) =>
    serveWith(
      { ...o, ui: true },
      {
        onListening: (server) => {
          server.ready.then(
            () => process.stdout.write(`${server.url}/\n`),
            () => {}, // runServer reports the failure
          );
        },
      },
    ),
  );
}
