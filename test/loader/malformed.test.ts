// The malformed-input suite: every generated case (see malformed-cases.ts) ends in a typed, one-line error
// that names the file; none crashes or hangs (times are reported, not asserted).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InputError } from '../../src/errors.js';
import { ROOT } from '../fixtures.js';
import { scratch } from './helpers.js';
import { openCheckpoint } from '../../src/loader/checkpoint.js';
import { buildCases } from './malformed-cases.js';
import { firstBitDifference } from './helpers.js';
import { type Figure, report } from '../measure.js';

const root = scratch('malformed');
const { cases, controls } = buildCases(root);

describe(`malformed inputs (${cases.length} cases)`, () => {
  it('has a case for every kind of damage', () => {
    console.log(`malformed-input cases: ${cases.length}`);
    for (const kind of [
      'safetensors:',
      'safetensors truncated',
      'torch zip:',
      'torch zip truncated',
      'torch zip (Zip64)',
      'torch zip, deflated:',
      'torch zip, deflated truncated',
      'legacy:',
      'legacy truncated',
      ': pickle',
      'data.pkl truncated',
      ': view',
      'folder:',
    ]) {
      expect(
        cases.some((c) => c.what.includes(kind)),
        kind,
      ).toBe(true);
    }
  });

  it('every case is a typed one-line error naming its file (times reported, not asserted)', () => {
    const failures: string[] = [];
    const times: Figure[] = [];
    for (const c of cases) {
      const t0 = performance.now();
      let err: unknown;
      try {
        c.run();
      } catch (e) {
        err = e;
      }
      const ms = performance.now() - t0;
      const msg = err instanceof Error ? err.message : '';
      if (!(err instanceof InputError)) failures.push(`${c.what}: ${err ? `untyped ${String(err)}` : 'no error'}`);
      else if (!msg.startsWith(c.path) || !/^\S+: \S/.test(msg) || msg.includes('\n') || /undefined|\[object/.test(msg))
        failures.push(`${c.what}: unclear message "${msg}"`);
      times.push({ what: c.what, ms });
    }
    expect(failures).toEqual([]);
    times.sort((a, b) => b.ms - a.ms);
    report(`malformed inputs: slowest 5 of ${times.length} (in process):`, times.slice(0, 5));
  });

  it('hostile pickles are refused by name', () => {
    const msg = (what: string) => {
      const c = cases.find((x) => x.what === what)!;
      try {
        c.run();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(msg('torch zip: pickle calling os.system')).toMatch(/refusing pickle global os\.system/);
    expect(msg('torch zip: pickle calling builtins.eval')).toMatch(/refusing pickle global builtins\.eval/);
    expect(msg('torch zip: pickle INST opcode')).toMatch(/opcode INST \(0x69\) is not allowed/);
    expect(msg('torch zip: pickle OBJ opcode')).toMatch(/opcode OBJ/);
    expect(msg('torch zip: pickle STACK_GLOBAL opcode')).toMatch(/opcode STACK_GLOBAL/);
    expect(msg('torch zip: view offset past its storage')).toMatch(/reaches element|storage holds/);
    expect(msg('torch zip: byteorder "big"')).toMatch(/big-endian/);
    const st = cases.find((x) => x.what === 'safetensors: header length 2^60')!;
    expect(() => st.run()).toThrow(CheckpointError);
    expect(msg('safetensors: header length 2^60')).toMatch(/header length 1152921504606846976 exceeds/);
  });

  it('damaged deflated entries are named: a bad stream, a wrong size, wrong values (CRC)', () => {
    const msg = (what: string) => {
      try {
        cases.find((x) => x.what === what)!.run();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg("torch zip, deflated: a storage's stream garbled")).toMatch(/cannot inflate .*data\/\d+/);
    expect(msg("torch zip, deflated: a byte of a storage's stream flipped")).toMatch(/cannot inflate|CRC/);
    expect(msg('torch zip, deflated: a storage inflates to other values than its CRC-32 was taken of')).toMatch(
      /CRC mismatch in archive\/data\/0/,
    );
    expect(msg('torch zip, deflated: data.pkl claims more bytes than it inflates to')).toMatch(
      /data\.pkl inflates to \d+ bytes, expected \d+/,
    );
    expect(msg('torch zip, deflated: data.pkl claims fewer bytes than it inflates to')).toMatch(
      /cannot inflate archive\/data\.pkl \(more than the \d+ bytes it declares\)/,
    );
    // a storage's declared size is also checked against its dtype × numel, which names the storage first
    expect(msg('torch zip, deflated: 0 claims more bytes than it inflates to')).toMatch(
      /storage archive\/data\/0 is 1284 bytes, expected 320 × F32 = 1280/,
    );
    expect(msg('torch zip, deflated: 0 claims fewer bytes than it inflates to')).toMatch(
      /storage archive\/data\/0 is 1276 bytes/,
    );
  });

  const cli = join(ROOT, 'bin', 'sbert.js');
  it.skipIf(!existsSync(join(ROOT, 'dist', 'src', 'cli', 'inspect.js')))(
    'sbert inspect exits 2 with error: on bad files',
    () => {
      const picks = [
        'safetensors: header length 2^60',
        'torch zip: pickle calling os.system',
        'torch zip: view stride reaching past its storage',
        'legacy: bad magic number',
        'folder: no config.json',
      ];
      for (const what of picks) {
        const c = cases.find((x) => x.what === what)!;
        const r = spawnSync(process.execPath, [cli, 'inspect', c.path], { encoding: 'utf8', timeout: 20_000 });
        expect(r.status, what).toBe(2);
        expect(r.stderr.startsWith(`error: ${c.path}: `), r.stderr).toBe(true);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stdout).toBe('');
      }
    },
  );

  it.each(controls.map((c) => [c.what, c] as const))('control: %s loads to the values written', (_, c) => {
    const ckpt = openCheckpoint(c.path);
    try {
      expect([...ckpt.tensors.keys()].sort()).toEqual([...c.expected.keys()].sort());
      for (const [name, want] of c.expected)
        expect(firstBitDifference(ckpt.tensors.get(name)!.float32(), want), name).toBe(-1);
    } finally {
      ckpt.close();
    }
  });
});
