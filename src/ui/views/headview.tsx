// bertviz's head view for one layer: the tokens twice, attending (query) on the left and attended (key) on the
// right, one line per (query, key, head) whose opacity is the attention weight, a colour per head. Focus or
// point at a token to see only its lines; toggle heads with their buttons. Long inputs draw each query's
// strongest keys only (until a token is chosen), so 512 tokens stay responsive.
import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { FONT } from '../fonts.js';

/** Paul Tol's colour-blind-safe qualitative schemes (muted, then bright): each head its colour and number. */
export const HEAD_COLORS = [
  '#332288',
  '#117733',
  '#44AA99',
  '#88CCEE',
  '#DDCC77',
  '#CC6677',
  '#AA4499',
  '#882255',
  '#4477AA',
  '#EE6677',
  '#228833',
  '#CCBB44',
  '#66CCEE',
  '#AA3377',
  '#BBBBBB',
  '#000000',
];

const ROW = 22;
const WIDTH = 240;
/** Above this many tokens, each query draws only its strongest keys unless a token is chosen. */
const LONG = 64;
const TOP_KEYS = 3;

type Side = 'left' | 'right';

/** The `n` largest entries' indices of a row, by one pass (no sort of the whole row). */
export function topIndices(row: Float32Array, n: number): number[] {
  const best: number[] = [];
  for (let j = 0; j < row.length; j++) {
    if (best.length === n && row[j]! <= row[best[n - 1]!]!) continue;
    let i = Math.min(best.length, n - 1);
    best[i] = j;
    while (i > 0 && row[best[i - 1]!]! < row[j]!) {
      best[i] = best[i - 1]!;
      best[--i] = j;
    }
  }
  return best;
}

/** Lines of one head at one opacity: [q0, k0, q1, k1, ...]. */
interface LineGroup {
  head: number;
  alpha: number;
  qk: number[];
}

const LEVELS = 16;

export function HeadView(p: {
  tokens: string[];
  /** [heads, L, L] */
  attention: Float32Array;
  heads: number;
  initialHead: number;
}): JSX.Element {
  const L = p.tokens.length;
  const [on, setOn] = useState<boolean[]>(() => Array.from({ length: p.heads }, () => true));
  const [focus, setFocus] = useState<{ side: Side; index: number } | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(640);
  const canvas = useRef<HTMLCanvasElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const tokenRefs = useRef<Record<Side, (HTMLButtonElement | null)[]>>({ left: [], right: [] });
  // A new layer: every head on again.
  useEffect(() => setOn(Array.from({ length: p.heads }, () => true)), [p.attention, p.heads]);

  // What to draw, grouped by head and opacity so that each group is one stroke.
  const groups = useMemo((): LineGroup[] => {
    const out: LineGroup[] = [];
    const topOnly = !focus && L > LONG;
    on.forEach((shown, h) => {
      if (!shown) return;
      const levels: number[][] = Array.from({ length: LEVELS }, () => []);
      const add = (q: number, k: number, w: number) => {
        if (w >= 0.01) levels[Math.min(LEVELS - 1, Math.floor(w * LEVELS))]!.push(q, k);
      };
      const A = p.attention.subarray(h * L * L, (h + 1) * L * L);
      for (let q = 0; q < L; q++) {
        if (focus?.side === 'left' && focus.index !== q) continue;
        const row = A.subarray(q * L, (q + 1) * L);
        if (focus?.side === 'right') add(q, focus.index, row[focus.index]!);
        else if (topOnly) for (const k of topIndices(row, TOP_KEYS)) add(q, k, row[k]!);
        else for (let k = 0; k < L; k++) add(q, k, row[k]!);
      }
      levels.forEach((qk, i) => qk.length && out.push({ head: h, alpha: (i + 0.5) / LEVELS, qk }));
    });
    return out;
  }, [on, focus, p.attention, L]);

  // The canvas covers the visible part of the scrolling columns only (a 512-token layer is 11 000 px tall).
  useLayoutEffect(() => {
    const c = canvas.current!;
    const height = Math.min(L * ROW, viewHeight);
    const dpr = window.devicePixelRatio || 1;
    c.width = WIDTH * dpr;
    c.height = height * dpr;
    c.style.width = `${WIDTH}px`;
    c.style.height = `${height}px`;
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, WIDTH, height);
    ctx.lineWidth = 2;
    const y = (i: number) => i * ROW + ROW / 2 - scrollTop;
    for (const g of groups) {
      ctx.strokeStyle = HEAD_COLORS[g.head % HEAD_COLORS.length]!;
      ctx.globalAlpha = g.alpha;
      ctx.beginPath();
      for (let i = 0; i < g.qk.length; i += 2) {
        const [y0, y1] = [y(g.qk[i]!), y(g.qk[i + 1]!)];
        if ((y0 < 0 && y1 < 0) || (y0 > height && y1 > height)) continue;
        ctx.moveTo(0, y0);
        ctx.lineTo(WIDTH, y1);
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }, [groups, scrollTop, viewHeight, L]);

  useLayoutEffect(() => {
    const el = scroller.current!;
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight || 640));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const moveFocus = (e: KeyboardEvent, side: Side, i: number) => {
    const next =
      e.key === 'ArrowDown'
        ? i + 1
        : e.key === 'ArrowUp'
          ? i - 1
          : e.key === 'ArrowRight' || e.key === 'ArrowLeft'
            ? i
            : -1;
    if (next < 0 || next >= L) return;
    e.preventDefault();
    const to: Side = e.key === 'ArrowRight' ? 'right' : e.key === 'ArrowLeft' ? 'left' : side;
    tokenRefs.current[to][next]?.focus();
  };

  const column = (side: Side) => (
    <div
      class={`hv-col hv-${side}`}
      role="listbox"
      aria-label={side === 'left' ? 'attending tokens' : 'attended tokens'}
    >
      {p.tokens.map((t, i) => (
        <button
          key={i}
          type="button"
          role="option"
          aria-selected={focus?.side === side && focus.index === i}
          ref={(el) => {
            tokenRefs.current[side][i] = el;
          }}
          class={`hv-token${focus?.side === side && focus.index === i ? ' hl' : ''}`}
          style={{ height: `${ROW}px`, fontFamily: FONT }}
          tabIndex={i === 0 ? 0 : -1}
          onMouseEnter={() => setFocus({ side, index: i })}
          onMouseLeave={() => setFocus(null)}
          onFocus={() => setFocus({ side, index: i })}
          onBlur={() => setFocus(null)}
          onKeyDown={(e) => moveFocus(e, side, i)}
        >
          {t}
        </button>
      ))}
    </div>
  );

  return (
    <div class="headview">
      <fieldset class="hv-heads">
        <legend class="sr-only">heads shown</legend>
        {on.map((v, h) => (
          <button
            key={h}
            type="button"
            class={`hv-head${v ? '' : ' off'}${h === p.initialHead ? ' chosen' : ''}`}
            style={{ background: HEAD_COLORS[h % HEAD_COLORS.length] }}
            aria-pressed={v}
            aria-label={`head ${h}`}
            title={`head ${h}: click to toggle, double-click to show it alone`}
            onClick={() => setOn(on.map((x, i) => (i === h ? !x : x)))}
            onDblClick={() => setOn(on.map((_, i) => i === h))}
          >
            {h}
          </button>
        ))}
        <button type="button" class="link" onClick={() => setOn(on.map(() => true))}>
          all
        </button>
        <button type="button" class="link" onClick={() => setOn(on.map((_, i) => i === p.initialHead))}>
          only head {p.initialHead}
        </button>
      </fieldset>
      <p class="hint">
        Left: attending (query) tokens; right: attended (key) tokens; line opacity = attention weight.
        {L > LONG && ` With ${L} tokens each query shows its ${TOP_KEYS} strongest keys until you choose a token.`}
      </p>
      <div class="hv-scroll" ref={scroller} onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}>
        <div class="hv-body">
          {column('left')}
          <div class="hv-lines" style={{ width: `${WIDTH}px`, height: `${L * ROW}px` }}>
            <canvas ref={canvas} />
          </div>
          {column('right')}
        </div>
      </div>
    </div>
  );
}
