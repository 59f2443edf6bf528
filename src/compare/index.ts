// Checking the engine against a PyTorch reference file, tensor by tensor (`sbert compare`).
export { runComparison, bertSource } from './run.js';
export {
  compareReference,
  type ComparisonReport,
  type TensorResult,
  type ActivationSource,
  type CompareOptions,
  type OurTensor,
} from './compare.js';
export { loadReference, type Reference, type RefGroup, type RefBatch, type RefTensor } from './reference.js';
export { compareTensors, describeIndex, type Diff, type Layout } from './diff.js';
export { defaultTolerance, dataFlowRank, parseKey } from './catalog.js';
export { formatTable, toJson, type JsonReport } from './report.js';
export { dumpActivations, dumpKeys, selectKeys, selectHooks, MAX_DUMP_BYTES, type DumpOptions } from './dump.js';
