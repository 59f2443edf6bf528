// Builds dist/ once before the tests, so CLI tests run the current code (CI builds first anyway; type
// errors fail `npm run build` there, so here they are only reported: tsc still emits).
import { execFileSync } from 'node:child_process';
import { ROOT } from './fixtures.js';

export default function setup(): void {
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
}
