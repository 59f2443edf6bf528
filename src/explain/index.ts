// Token attributions (`sbert explain`): which tokens make two sentences similar, or make one embedding's norm or
// dimension what it is.
export {
  ATTRIBUTION_METHODS,
  type AttributionMethod,
  checkExplainOptions,
  DEFAULT_METHOD,
  explain,
  type ExplainOptions,
  explainSentence,
  type Explanation,
  type SentenceExplanation,
  type TokenScores,
} from './explain.js';
export {
  type Attributable,
  attentionRollout,
  DEFAULT_STEPS,
  embeddingGradient,
  type GradientResult,
  integratedGradients,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  type SentenceIds,
} from './methods.js';
export type { Embedding, ExplainTarget } from './target.js';
