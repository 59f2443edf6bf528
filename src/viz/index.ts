// Attention pictures (`sbert attention`): PNG heatmaps and an offline HTML head view; attribution pictures
// (`sbert explain`).
export { attentionMaps } from './extract.js';
export { selectPanels, headMap, meanMap, type AttentionMaps, type Panel } from './maps.js';
export { renderHeatmapPng, heatmapLayout, type HeatmapLayout } from './heatmap.js';
export { renderHeadViewHtml, headViewData, type HeadViewData } from './headview.js';
export { labelFont, type LabelFont } from './font.js';
export {
  type AttributionLayout,
  attributionLayout,
  type AttributionView,
  renderAttributionPng,
  type TokenBox,
} from './attribution.js';
export { type AttributionPage, renderAttributionHtml } from './attribution-html.js';
export { divergingColor } from './diverging.js';
