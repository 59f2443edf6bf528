// Preloaded into a CLI child by test/cli.ts (`measureRss`): writes the process's peak resident set size in KiB
// to $SBERT_TEST_MAXRSS when it exits, however it exits.
'use strict';
const { writeFileSync } = require('node:fs');
const { peakRssKiB } = require('./peak-rss.cjs');

process.on('exit', () => writeFileSync(process.env.SBERT_TEST_MAXRSS, String(peakRssKiB())));
