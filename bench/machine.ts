// What machine and software a result came from, so two result files can be compared honestly.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, arch, loadavg, platform, release, totalmem, type as osType, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/fixtures.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  node: string;
  os: string;
  arch: string;
  /** Installed versions, read from each package's own package.json (absent ones are left out). */
  packages: Record<string, string>;
  git: { commit: string | null; dirty: boolean | null };
  date: string;
  /** 1, 5 and 15-minute load averages when the run ended: above the core count, other work shared the CPUs. */
  loadAverage: number[];
}

const PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
  'benny',
];

export function installedVersion(pkg: string): string | null {
  const file = join(ROOT, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return null;
  const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
  return typeof v === 'string' ? v : null;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  const packages: Record<string, string> = {};
  for (const p of PACKAGES) {
    const v = installedVersion(p);
    if (v) packages[p] = v;
  }
  const status = git(['status', '--porcelain']);
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: typeof availableParallelism === 'function' ? availableParallelism() : list.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    os: `${osType()} ${release()} (${platform()})`,
    arch: arch(),
    packages,
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
