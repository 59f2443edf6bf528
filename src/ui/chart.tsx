// The per-layer similarity as a line chart (uPlot, drawn on a canvas) with the same numbers in a table beneath
// it, for screen readers and for reading exact values. Index 0 is the embeddings' output (hidden_states[0]).
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { FONT } from './fonts.js';

export interface LayerChartProps {
  /** Cosine of the mean-pooled hidden_states[i], i = 0 … layers. */
  layers: number[];
  /** The same with heads ablated, when some are. */
  ablated?: number[];
}

const BLUE = '#0072B2'; // Okabe–Ito blue and vermilion: distinct for every common colour-vision deficiency
const VERMILION = '#D55E00';

export function LayerChart(p: LayerChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const hasAblated = !!p.ablated;

  useEffect(() => {
    const el = box.current!;
    const axis = { font: `12px ${FONT}`, stroke: '#1d2330', grid: { stroke: '#e3e6ec' }, ticks: { stroke: '#c4c9d4' } };
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height: 280,
      scales: { x: { time: false } },
      legend: { live: true },
      axes: [
        {
          ...axis,
          label: 'hidden state (0 = embeddings)',
          // one tick per hidden state (every few on deep models)
          splits: (u) => {
            const n = u.data[0].length;
            const step = Math.max(1, Math.ceil(n / 16));
            return Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step);
          },
          values: (_u, ticks) => ticks.map(String),
        },
        { ...axis, label: 'cosine similarity', size: 60 },
      ],
      series: [
        { label: 'layer' },
        { label: 'similarity', stroke: BLUE, width: 2, points: { show: true, size: 7, fill: BLUE } },
        ...(hasAblated
          ? [
              {
                label: 'heads ablated',
                stroke: VERMILION,
                width: 2,
                dash: [6, 4],
                points: { show: true, size: 7, fill: VERMILION },
              },
            ]
          : []),
      ],
    };
    plot.current = new uPlot(opts, [[]], el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(320, el.clientWidth), height: 280 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [hasAblated]);

  useEffect(() => {
    const x = p.layers.map((_, i) => i);
    plot.current?.setData(hasAblated ? [x, p.layers, p.ablated!] : [x, p.layers]);
  }, [p.layers, p.ablated, hasAblated]);

  return (
    <div class="layer-chart">
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label="line chart of the per-layer similarity (values in the table below)"
      />
      <table class="layers-table" aria-label="per-layer similarity">
        <thead>
          <tr>
            <th scope="col">hidden state</th>
            <th scope="col">similarity</th>
            {hasAblated && <th scope="col">heads ablated</th>}
            {hasAblated && <th scope="col">change</th>}
          </tr>
        </thead>
        <tbody>
          {p.layers.map((v, i) => (
            <tr key={i} data-layer={i}>
              <th scope="row">{i === 0 ? '0 (embeddings)' : i}</th>
              <td data-value={String(v)}>{v.toFixed(6)}</td>
              {hasAblated && <td data-value={String(p.ablated![i])}>{p.ablated![i]!.toFixed(6)}</td>}
              {hasAblated && <td>{(p.ablated![i]! - v).toFixed(6)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
