// A heatmap of a [rows, cols] matrix that stays fast at 512 × 512 and beyond: the values are coloured once into
// a bitmap with one pixel per cell, and a canvas the size of the viewport draws only the visible part of it,
// scaled without smoothing, with the row and column labels pinned to its edges. A scrolling layer under it
// gives native scrollbars; Ctrl + wheel or + / − zooms; the arrow keys move a cursor whose cell is read out.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { type ColorMap, pixels } from './colormap.js';
import { FONT, onFontsLoaded } from './fonts.js';
import { f32 } from './tensor.js';

export interface HeatmapProps {
  values: Float32Array;
  rows: number;
  cols: number;
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** What rows and columns are, for the readout ("query", "key"). */
  rowName: string;
  colName: string;
  map: ColorMap;
  /** The accessible name of the picture. */
  label: string;
  /** The viewport's largest height in CSS pixels. */
  maxHeight?: number;
  /** Used as the element ids' prefix (`${id}-grid`, `${id}-readout`). */
  id: string;
}

const MIN_CELL = 1;
const MAX_CELL = 64;
const LABEL_FONT_PX = 13;
/** Cells this size or larger get token labels; smaller ones get index ticks. */
const LABEL_CELL = 14;
const MAX_LABEL_PX = 120;

interface Layout {
  cell: number;
  /** Left margin (row labels) and top margin (column labels), CSS px. */
  left: number;
  top: number;
  labels: boolean;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function textWidth(ctx: CanvasRenderingContext2D, labels: readonly string[] | undefined): number {
  if (!labels?.length) return 0;
  ctx.font = `${LABEL_FONT_PX}px ${FONT}`;
  let w = 0;
  for (const l of labels) w = Math.max(w, ctx.measureText(l).width);
  return Math.min(MAX_LABEL_PX, Math.ceil(w));
}

/** Index ticks every 1, 2, 5, 10, 20, 50, … cells, at least 24 px apart. */
function tickStep(cell: number): number {
  for (const m of [1, 10, 100, 1000]) for (const s of [1, 2, 5]) if (s * m * cell >= 24) return s * m;
  return 10000;
}

const short = (s: string) => ([...s].length > 12 ? `${[...s].slice(0, 11).join('')}…` : s);

export function Heatmap(p: HeatmapProps): JSX.Element {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [cell, setCell] = useState<number | null>(null); // null: fit to the width
  const [cursor, setCursor] = useState<{ r: number; c: number } | null>(null);
  const [hover, setHover] = useState<{ r: number; c: number } | null>(null);
  const [width, setWidth] = useState(0);
  const [fontEpoch, setFontEpoch] = useState(0);
  const frame = useRef(0);

  useEffect(() => onFontsLoaded(() => setFontEpoch((n) => n + 1)), []);

  // The values as one pixel per cell.
  const bitmap = useMemo(() => {
    const c = document.createElement('canvas');
    c.width = p.cols;
    c.height = p.rows;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(p.cols, p.rows);
    pixels(p.map, p.values, img.data);
    ctx.putImageData(img, 0, 0);
    return c;
  }, [p.values, p.rows, p.cols, p.map]);

  // Label widths, measured with the page's font.
  const measured = useMemo(() => {
    const ctx = document.createElement('canvas').getContext('2d')!;
    return { row: textWidth(ctx, p.rowLabels), col: textWidth(ctx, p.colLabels) };
  }, [p.rowLabels, p.colLabels, fontEpoch]);

  const layout = useMemo((): Layout => {
    const fitCell = (avail: number) => clamp(Math.floor(avail / Math.max(p.rows, p.cols)), MIN_CELL, 40);
    const guessLeft = measured.row ? measured.row + 10 : 40;
    const size = cell ?? fitCell(Math.max(200, (width || 640) - guessLeft - 20));
    const labels = size >= LABEL_CELL && !!p.rowLabels && !!p.colLabels;
    const colUpright = measured.col <= size - 2;
    return {
      cell: size,
      labels,
      left: labels ? measured.row + 10 : 40,
      top: labels ? (colUpright ? LABEL_FONT_PX + 10 : measured.col + 10) : 24,
    };
  }, [cell, width, measured, p.rows, p.cols, p.rowLabels, p.colLabels]);

  // Follow the container's width.
  useLayoutEffect(() => {
    const el = scrollRef.current!.parentElement!;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  const draw = () => {
    const scroll = scrollRef.current;
    const canvas = canvasRef.current;
    if (!scroll || !canvas) return;
    const { cell: s, left, top, labels } = layout;
    const vw = scroll.clientWidth;
    const vh = scroll.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(vw * dpr) || canvas.height !== Math.round(vh * dpr)) {
      canvas.width = Math.round(vw * dpr);
      canvas.height = Math.round(vh * dpr);
      canvas.style.width = `${vw}px`;
      canvas.style.height = `${vh}px`;
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, vw, vh);
    const sl = scroll.scrollLeft;
    const st = scroll.scrollTop;
    const c0 = clamp(Math.floor(sl / s), 0, p.cols);
    const c1 = clamp(Math.ceil((sl + vw - left) / s), 0, p.cols);
    const r0 = clamp(Math.floor(st / s), 0, p.rows);
    const r1 = clamp(Math.ceil((st + vh - top) / s), 0, p.rows);
    const x = (c: number) => left + c * s - sl;
    const y = (r: number) => top + r * s - st;

    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, vw - left, vh - top);
    ctx.clip();
    ctx.imageSmoothingEnabled = false;
    if (c1 > c0 && r1 > r0) ctx.drawImage(bitmap, c0, r0, c1 - c0, r1 - r0, x(c0), y(r0), (c1 - c0) * s, (r1 - r0) * s);
    for (const [mark, color] of [
      [hover, 'rgba(255,255,255,0.9)'],
      [cursor, '#000'],
    ] as const) {
      if (!mark) continue;
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.strokeRect(x(mark.c) - 1, y(mark.r) - 1, s + 2, s + 2);
      if (mark === cursor) {
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1;
        ctx.strokeRect(x(mark.c) - 2.5, y(mark.r) - 2.5, s + 5, s + 5);
      }
    }
    ctx.restore();

    // Labels, pinned: rows on the left, columns on top.
    ctx.fillStyle = '#1d2330';
    ctx.font = `${LABEL_FONT_PX}px ${FONT}`;
    const at = cursor ?? hover;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, top, left, vh - top);
    ctx.clip();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const step = labels ? 1 : tickStep(s);
    for (let r = r0 - (r0 % step); r < r1; r += step) {
      ctx.font = `${at?.r === r ? 'bold ' : ''}${LABEL_FONT_PX}px ${FONT}`;
      ctx.fillText(labels ? short(p.rowLabels![r]!) : String(r), left - 6, y(r) + s / 2);
    }
    ctx.restore();
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, 0, vw - left, top);
    ctx.clip();
    for (let c = c0 - (c0 % step); c < c1; c += step) {
      ctx.font = `${at?.c === c ? 'bold ' : ''}${LABEL_FONT_PX}px ${FONT}`;
      const text = labels ? short(p.colLabels![c]!) : String(c);
      if (labels && measured.col > s - 2) {
        ctx.save();
        ctx.translate(x(c) + s / 2, top - 6);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.textBaseline = 'middle';
        ctx.fillText(text, 0, 0);
        ctx.restore();
      } else {
        ctx.textAlign = 'center';
        ctx.textBaseline = 'bottom';
        ctx.fillText(text, x(c) + s / 2, top - 5);
      }
    }
    ctx.restore();
  };

  const schedule = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(draw);
  };
  useLayoutEffect(() => {
    draw();
    return () => cancelAnimationFrame(frame.current);
  }, [bitmap, layout, cursor, hover, width, fontEpoch]);

  const cellAt = (e: MouseEvent): { r: number; c: number } | null => {
    const scroll = scrollRef.current!;
    const rect = scroll.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    if (x < layout.left || y < layout.top || x >= scroll.clientWidth || y >= scroll.clientHeight) return null;
    const c = Math.floor((x - layout.left + scroll.scrollLeft) / layout.cell);
    const r = Math.floor((y - layout.top + scroll.scrollTop) / layout.cell);
    return r < p.rows && c < p.cols ? { r, c } : null;
  };

  /** Scrolls so that the cell is in view. */
  const reveal = (r: number, c: number) => {
    const scroll = scrollRef.current!;
    const { cell: s, left, top } = layout;
    const [w, h] = [scroll.clientWidth - left, scroll.clientHeight - top];
    if (c * s < scroll.scrollLeft) scroll.scrollLeft = c * s;
    else if ((c + 1) * s > scroll.scrollLeft + w) scroll.scrollLeft = (c + 1) * s - w;
    if (r * s < scroll.scrollTop) scroll.scrollTop = r * s;
    else if ((r + 1) * s > scroll.scrollTop + h) scroll.scrollTop = (r + 1) * s - h;
  };

  const zoom = (factor: number) => setCell((c) => clamp((c ?? layout.cell) * factor, MIN_CELL, MAX_CELL));

  const onKeyDown = (e: KeyboardEvent) => {
    const at = cursor ?? { r: 0, c: 0 };
    const big = e.shiftKey ? 10 : 1;
    const page = Math.max(1, Math.floor((scrollRef.current!.clientHeight - layout.top) / layout.cell));
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-big, 0],
      ArrowDown: [big, 0],
      ArrowLeft: [0, -big],
      ArrowRight: [0, big],
      PageUp: [-page, 0],
      PageDown: [page, 0],
    };
    let next: { r: number; c: number } | undefined;
    if (e.key in moves) {
      const [dr, dc] = moves[e.key]!;
      next = cursor ? { r: clamp(at.r + dr, 0, p.rows - 1), c: clamp(at.c + dc, 0, p.cols - 1) } : at;
    } else if (e.key === 'Home') next = { r: e.ctrlKey ? 0 : at.r, c: 0 };
    else if (e.key === 'End') next = { r: e.ctrlKey ? p.rows - 1 : at.r, c: p.cols - 1 };
    else if (e.key === '+' || e.key === '=') zoom(1.25);
    else if (e.key === '-') zoom(0.8);
    else if (e.key === '0') setCell(null);
    else return;
    e.preventDefault();
    if (next) {
      setCursor(next);
      reveal(next.r, next.c);
    }
  };

  const onWheel = (e: WheelEvent) => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    zoom(e.deltaY < 0 ? 1.25 : 0.8);
  };
  useEffect(() => {
    const el = scrollRef.current!;
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  });

  const shown = cursor ?? hover;
  const value = shown ? p.values[shown.r * p.cols + shown.c]! : undefined;
  const rowText = (r: number) => (p.rowLabels ? ` “${p.rowLabels[r]}”` : '');
  const colText = (c: number) => (p.colLabels ? ` “${p.colLabels[c]}”` : '');
  const height = Math.min(p.maxHeight ?? 560, layout.top + p.rows * layout.cell + 18);

  return (
    <div class="heatmap">
      <div class="heatmap-tools">
        <button type="button" onClick={() => zoom(0.8)} aria-label="zoom out" title="zoom out (−)">
          −
        </button>
        <button type="button" onClick={() => zoom(1.25)} aria-label="zoom in" title="zoom in (+)">
          +
        </button>
        <button type="button" onClick={() => setCell(null)} title="fit (0)">
          fit
        </button>
        <span class="hint">
          {layout.cell.toFixed(layout.cell < 10 ? 1 : 0)} px per cell · arrow keys move, Shift × 10, + / − zoom, Ctrl +
          wheel zooms
        </span>
      </div>
      <div class="heatmap-view" style={{ height: `${height}px` }}>
        <canvas ref={canvasRef} class="heatmap-canvas" />
        <div
          ref={scrollRef}
          id={`${p.id}-grid`}
          class="heatmap-scroll"
          role="application"
          aria-roledescription="heatmap"
          aria-label={`${p.label}: ${p.rows} rows (${p.rowName}) × ${p.cols} columns (${p.colName}); arrow keys move the cursor`}
          aria-describedby={`${p.id}-readout`}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: role=application takes the keys (a canvas of 512 × 512 cells)
          tabIndex={0}
          data-cell={layout.cell}
          data-left={layout.left}
          data-top={layout.top}
          data-rows={p.rows}
          data-cols={p.cols}
          onScroll={schedule}
          onKeyDown={onKeyDown}
          onMouseMove={(e) => {
            const at = cellAt(e);
            if (at?.r !== hover?.r || at?.c !== hover?.c) setHover(at);
          }}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const at = cellAt(e);
            if (at) setCursor(at);
          }}
        >
          <div
            class="heatmap-space"
            style={{
              width: `${layout.left + p.cols * layout.cell}px`,
              height: `${layout.top + p.rows * layout.cell}px`,
            }}
          />
        </div>
      </div>
      <p
        id={`${p.id}-readout`}
        class="readout"
        aria-live="polite"
        data-row={shown?.r}
        data-col={shown?.c}
        data-value={value === undefined ? undefined : String(value)}
      >
        {shown
          ? `${p.rowName} ${shown.r}${rowText(shown.r)} · ${p.colName} ${shown.c}${colText(shown.c)}: ${f32(value!)}`
          : 'Point at a cell, or focus the map and use the arrow keys, to read its value.'}
      </p>
    </div>
  );
}
