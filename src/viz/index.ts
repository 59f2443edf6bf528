// Attention pictures (`sbert attention`): PNG heatmaps and an offline HTML head view.
export { attentionMaps } from './extract.js';
export { selectPanels, headMap, meanMap, type AttentionMaps, type Panel } from './maps.js';
export { renderHeatmapPng, heatmapLayout, type HeatmapLayout } from './heatmap.js';
export { renderHeadViewHtml, headViewData, type HeadViewData } from './headview.js';
export { labelFont, type LabelFont } from './font.js';
