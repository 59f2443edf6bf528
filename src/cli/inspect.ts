// `sbert inspect PATH [--json]`: what a weights file or model folder holds, and how its keys map
// (inspect-report.ts, loaded when the command runs). Exit 2, after the report, when the folder's tokenizer cannot
// be loaded or does not fit the model (what `encode` refuses).
import type { Command } from 'commander';
import { ALLOW_NONFINITE } from './options.js';

export type { InspectReport, TokenizerReport } from './inspect-report.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('format, dtypes, tensor names and shapes, config summary, missing / unexpected / renamed keys')
    .argument('<path>', 'a weights file (safetensors, torch zip or legacy) or a model folder / hub id')
    .option('--json', 'print a JSON report')
    .option(...ALLOW_NONFINITE)
    .action(async (path: string, opts: { json?: boolean; allowNonfinite?: boolean }) => {
      const { inspect, text, tokenizerRefusal } = await import('./inspect-report.js');
      const r = inspect(path, { allowNonFinite: opts.allowNonfinite });
      process.stdout.write(`${opts.json ? JSON.stringify(r, null, 2) : text(r)}\n`);
      // The report is whole either way; a folder that `encode` would refuse for its tokenizer also fails here.
      const refused = tokenizerRefusal(r);
      if (refused) {
        process.stderr.write(`error: ${refused}\n`);
        process.exitCode = 2;
      }
    });
}
