// The module layering of src/, checked by `npm run lint:deps` (dependency-cruiser) in CI. A sentence travels one
// way: cli → server / encoder / explain / compare / viz / hub → model → layers → backend kernels, with the pure
// tfjs-op math (ops) below both layers and backend; loader, tokenizer and io below; errors.ts a leaf.
//
// LAYERS says, for each top-level module of src/ (a folder, or a file without its .ts), which other modules it may
// import. Anything else is a violation, type-only imports included. A new folder must be added here; its line is
// the architecture decision. src/ui (browser code) may import types from anywhere but no code: swc (TypeScript 7
// has no compiler API for dependency-cruiser) does not tell type-only imports apart, so that rule is checked on
// the compiled dist/src/ui, where type imports are gone. dependency-cruiser's swc parser reads no JSX, so the
// page's .tsx files are checked only there (their compiled .js).
const LAYERS = {
  errors: [],
  io: ['errors'],
  ops: [],
  loader: ['errors', 'io'],
  tokenizer: ['errors', 'io'],
  backend: ['ops', 'errors'],
  layers: ['backend', 'ops', 'loader', 'errors'],
  model: ['layers', 'backend', 'ops', 'loader', 'errors'],
  hub: ['loader', 'io', 'errors'],
  encoder: ['hub', 'model', 'layers', 'backend', 'ops', 'loader', 'tokenizer', 'io', 'errors'],
  compare: ['encoder', 'model', 'layers', 'backend', 'ops', 'loader', 'tokenizer', 'io', 'errors'],
  viz: ['encoder', 'model', 'layers', 'backend', 'ops', 'loader', 'tokenizer', 'io', 'errors'],
  explain: ['encoder', 'model', 'layers', 'backend', 'ops', 'loader', 'tokenizer', 'io', 'errors'],
  server: [
    'explain',
    'compare',
    'viz',
    'encoder',
    'hub',
    'model',
    'layers',
    'backend',
    'ops',
    'loader',
    'tokenizer',
    'io',
    'errors',
  ],
  // The package's entry points (src/index.ts, src/internals.ts): everything a library user may reach.
  index: [
    'internals',
    'explain',
    'compare',
    'viz',
    'encoder',
    'hub',
    'model',
    'layers',
    'backend',
    'ops',
    'loader',
    'tokenizer',
    'io',
    'errors',
  ],
  internals: [
    'explain',
    'compare',
    'viz',
    'encoder',
    'hub',
    'model',
    'layers',
    'backend',
    'ops',
    'loader',
    'tokenizer',
    'io',
    'errors',
  ],
  cli: [
    'server',
    'explain',
    'compare',
    'viz',
    'encoder',
    'hub',
    'model',
    'layers',
    'backend',
    'ops',
    'loader',
    'tokenizer',
    'io',
    'errors',
  ],
  // The page speaks the explorer's wire format: types from src/server/explorer/types.ts (code: see below).
  ui: [
    'server',
    'index',
    'internals',
    'explain',
    'compare',
    'viz',
    'encoder',
    'hub',
    'model',
    'layers',
    'backend',
    'ops',
    'loader',
    'tokenizer',
    'io',
    'errors',
  ],
};

const MODULES = Object.keys(LAYERS);
const path = (m) => `^src/${m}(/|\\.ts$)`;
const oneOf = (ms) => `^src/(${ms.join('|')})(/|\\.ts$)`;

module.exports = {
  forbidden: [
    ...Object.entries(LAYERS).map(([from, allowed]) => ({
      name: `${from}-imports-only-${allowed.length ? allowed.join('-') : 'nothing'}`,
      comment: `src/${from} may import only ${allowed.length ? allowed.map((m) => `src/${m}`).join(', ') : 'packages'} (see LAYERS)`,
      severity: 'error',
      from: { path: path(from) },
      to: { path: '^src/', pathNot: [path(from), ...(allowed.length ? [oneOf(allowed)] : [])] },
    })),
    {
      name: 'ui-imports-no-node-side-code',
      comment: 'src/ui runs in a browser: types from the Node side only (checked on the compiled dist/src/ui)',
      severity: 'error',
      from: { path: '^dist/src/ui/', pathNot: '\\.d\\.ts$' },
      to: { path: '^dist/src/', pathNot: '^dist/src/ui/' },
    },
    {
      name: 'undeclared-module',
      comment: 'every top-level module of src/ must have its line in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: oneOf(MODULES) },
      to: {},
    },
    {
      name: 'src-not-to-tests-or-benchmarks',
      comment: 'library code never imports test/, bench/ or scripts/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'ui-no-node',
      comment: 'src/ui runs in a browser: no node: modules',
      severity: 'error',
      from: { path: `^(dist/)?${path('ui').slice(1)}` },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'import cycles between files make load order matter and hide layering mistakes',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules/', '^src/.*\\.tsx$'] },
    // TypeScript 7 ships no compiler API, so swc parses the sources; type-only imports count too.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
