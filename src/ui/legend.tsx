// A colour map's legend: the gradient with the values at its ends and middle.
import type { JSX } from 'preact';
import { type ColorMap, gradientCss } from './colormap.js';

const fmt = (x: number) =>
  Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(3);

export function Legend({ map, label }: { map: ColorMap; label: string }): JSX.Element {
  return (
    <figure class="legend" aria-label={`colour scale: ${label}, ${fmt(map.lo)} to ${fmt(map.hi)}`}>
      <div class="legend-bar" style={{ background: gradientCss(map) }} />
      <figcaption class="legend-labels">
        <span>{fmt(map.lo)}</span>
        <span>
          {label} ({map.kind === 'sequential' ? 'viridis' : 'RdBu, 0 in white'})
        </span>
        <span>{fmt(map.hi)}</span>
      </figcaption>
    </figure>
  );
}
