// Before the tests: builds dist/ once, so CLI tests run the current code (CI builds first anyway; type errors
// fail `npm run build` there, so here they are only reported: tsc still emits). Then gives the run a scratch
// temp dir of its own (TMPDIR, inherited by every test process and the CLIs they start) and removes it after:
// a machine's /tmp outlives runs (CI's does), and test files' mkdtemp folders would pile up there. Caches meant
// to outlive a run (synthetic checkpoints, the tensorflow addon) stay in the machine's temp dir:
// SBERT_TEST_CACHE_DIR names it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

const RUN_PREFIX = 'sbert-tfjs-test-run-';

export default function setup(): () => void {
  try {
    execFileSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json'], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    execFileSync(process.execPath, [`${ROOT}/scripts/types-shim.mjs`], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(process.execPath, [`${ROOT}/scripts/build-ui.mjs`], { cwd: ROOT, stdio: 'pipe' }); // the explorer's page
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? String(e);
    process.stderr.write(`global-setup: tsc reported errors (dist/ still emitted):\n${out.slice(0, 2000)}\n`);
  }
  const machineTmp = tmpdir();
  process.env.SBERT_TEST_CACHE_DIR ??= machineTmp;
  process.env.SBERT_TF_CACHE ??= join(process.env.SBERT_TEST_CACHE_DIR, 'sbert-tfjs-tensorflow');
  // Scratch dirs of runs that were killed before their teardown, a day old.
  const dayAgo = Date.now() - 86_400_000;
  for (const entry of readdirSync(machineTmp)) {
    if (!entry.startsWith(RUN_PREFIX)) continue;
    const path = join(machineTmp, entry);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
  const scratch = mkdtempSync(join(machineTmp, RUN_PREFIX));
  process.env.TMPDIR = scratch;
  return () => rmSync(scratch, { recursive: true, force: true });
}
