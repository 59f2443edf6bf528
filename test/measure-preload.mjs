// Loaded with `node --import` into a CLI child by test/measure.ts: at exit, writes the child's own resource
// usage (peak RSS included) to the file named by MEASURE_RUSAGE_OUT.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { peakRssKiB } = createRequire(import.meta.url)('./peak-rss.cjs');

const out = process.env.MEASURE_RUSAGE_OUT;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKiB: peakRssKiB(), userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  });
}
