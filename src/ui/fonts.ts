// The page's font stack: the CJK font the server ships ('SbertCJK', declared by ui/fonts.css for CJK code points
// only), then the system's. Canvases draw with it too, so they redraw once a web font has loaded.
export const FONT =
  "system-ui, -apple-system, 'Segoe UI', SbertCJK, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

/** Calls `f` whenever the document finishes loading fonts; returns the unsubscribe. */
export function onFontsLoaded(f: () => void): () => void {
  const fonts = document.fonts;
  fonts.addEventListener('loadingdone', f);
  return () => fonts.removeEventListener('loadingdone', f);
}
