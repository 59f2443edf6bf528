// Text that goes into the self-contained HTML pages (head view, attributions).

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside <script>: no `</script>`, no `<!--`. */
export const scriptJson = (x: unknown): string => JSON.stringify(x).replace(/</g, '\\u003c');

/** The pages' font list: the system UI font, then the usual CJK fonts of each platform. */
export const PAGE_FONTS =
  'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';
