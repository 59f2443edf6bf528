// The `sbert` command: each subcommand lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { exitCodeOf, messageOf } from '../errors.js';

// Subcommand modules: each exports `register(program: Command): void`.
const COMMANDS: (() => Promise<{ register(program: Command): void }>)[] = [
  // (each issue adds its command here)
  () => import('./encode.js'),
  () => import('./similarity.js'),
  () => import('./download.js'),
  () => import('./inspect.js'),
  () => import('./synth.js'),
  () => import('./tokenize.js'),
  () => import('./compare.js'),
  () => import('./attention.js'),
];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('sbert')
    .description('BERT sentence encoders on TensorFlow.js, loaded straight from PyTorch checkpoints')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.startsWith('error:') ? str : `error: ${str}`) });
  for (const load of COMMANDS) (await load()).register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit 0; unknown options and missing arguments are usage errors.
      return err.exitCode === 0 ? 0 : 1;
    }
    process.stderr.write(`error: ${messageOf(err)}\n`);
    if (process.env.SBERT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
