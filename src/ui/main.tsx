// The explorer's entry point (bundled by scripts/build-ui.mjs into dist/ui/app.js).
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app')!;
// Chromium keeps text it shaped while a web font was still loading in the fallback (boxes, for CJK without a
// system font): the page renders once the CJK font is in (a local file: milliseconds), or after 3 s regardless.
const cjk = document.fonts.load('16px SbertCJK', '中').catch(() => []);
void Promise.race([cjk, new Promise((resolve) => setTimeout(resolve, 3000))]).then(() => {
  root.textContent = ''; // the static "loading" line
  render(<App />, root);
});
