// The calling process's own peak resident set size in KiB. getrusage's maxRSS survives exec on Linux: a child
// spawned by a test process holding 300 MB reported at least 300 MB, whatever it used itself, so every bound on
// a child's memory depended on what the test process happened to hold. VmHWM belongs to the process's own
// memory map (made at exec); maxRSS remains the fallback where there is no /proc.
'use strict';
const { readFileSync } = require('node:fs');

function peakRssKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}

module.exports = { peakRssKiB };
