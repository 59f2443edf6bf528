// The `sbert` command: each subcommand lives in its own file and registers itself here.
import { Command, CommanderError } from 'commander';
import { exitCodeOf, messageOf } from '../errors.js';

// Subcommand modules: each exports `register(program: Command): void`.
const COMMANDS: (() => Promise<{ register(program: Command): void }>)[] = [
  // (each issue adds its command here)
  () => import('./encode.js'),
  () => import('./similarity.js'),
  () => import('./search.js'),
  () => import('./evaluate.js'),
  () => import('./download.js'),
  () => import('./inspect.js'),
  () => import('./synth.js'),
  () => import('./tokenize.js'),
  () => import('./compare.js'),
  () => import('./attention.js'),
  () => import('./dump.js'),
  () => import('./serve.js'),
  () => import('./explain.js'),
  () => import('./explore.js'),
];

const ENVIRONMENT = `
Environment:
  SBERT_WEIGHTS         the folder hub ids resolve under (default: ./weights)
  HF_ENDPOINT, HF_TOKEN the hub to download from, and its token (download, --model with a hub id); the token goes
                        only to HF_ENDPOINT's own origin (scheme, host, port) and is never printed
  SBERT_HUB_TIMEOUT     seconds (default 30): an API call or HEAD must answer within it, a transfer silent for twice
                        it is resumed, each file must arrive within it × (2 + its size in MiB)
  HF_HUB_CACHE, HF_HOME an existing huggingface_hub cache, read without the network
  SBERT_WEBGPU_MATMUL   auto (default: time both on the device, keep the faster) | tiled | tfjs (tfjs's kernels only)
  SBERT_WEBGPU_TILE     the tiled matmul's output tile: auto (default, by the product's size) | 64x64 | 64x128 |
                        128x64 | 128x128 (for tuning on your GPU with bench/gpu-matmul.js)
  SBERT_WEBGPU_DAWN_FLAGS flags for Dawn, space-separated (e.g. enable-dawn-features=disable_robustness; docs/gpu.md)
  SBERT_GPU_IN_FLIGHT   batches queued on a GPU before the first result is awaited (1–64, default 4)
  SBERT_BLAS            the wasm backend's matmuls: a BLAS library file or name to load | off (XNNPACK);
                        default: OpenBLAS / MKL / Accelerate where found (README: A BLAS under the wasm backend)
  SBERT_TF_KERNELS      native (default: 2-D matmuls as TensorFlow's MatMul op) | tfjs (tfjs-node's kernels only)
  SBERT_TF_KERNELS_ISA  the tensorflow backend's ops of ours: the widest vectors the CPU runs (default) | avx512 |
                        avx2 | baseline (no wider than that; docs/tensorflow.md)
  TF_NUM_INTRAOP_THREADS  TensorFlow's threads per op on the tensorflow backend (default: one per core)
  SBERT_PROGRESS=0      no progress bars (they show only on a terminal anyway)
  SBERT_QUIET=1         no "sbert: backend ..." line or warnings on stderr
  SBERT_DEBUG=1         a stack trace after an error
  SBERT_CJK_FONT        a font file (.ttf/.otf/.ttc) for Chinese labels in attention and explain PNGs
  SBERT_API_KEY         serve: the key the API routes require (as --api-key)`;

export async function main(argv: string[]): Promise<number> {
  const program = new Command('sbert')
    .description('BERT sentence encoders on TensorFlow.js, loaded straight from PyTorch checkpoints')
    .addHelpText('after', ENVIRONMENT)
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
    // The token is never printed, whatever a message or stack might have picked up.
    const token = process.env.HF_TOKEN?.trim();
    const redact = (text: string) => (token && token.length >= 4 ? text.split(token).join('***') : text);
    process.stderr.write(`error: ${redact(messageOf(err))}\n`);
    if (process.env.SBERT_DEBUG && err instanceof Error) process.stderr.write(`${redact(err.stack ?? '')}\n`);
    return exitCodeOf(err);
  }
}
