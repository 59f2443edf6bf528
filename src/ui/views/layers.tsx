// View 3: how similar the two sentences are after each layer: the cosine of their mean-pooled hidden states.
import type { JSX } from 'preact';
import type { SimilarityResponse } from '../../server/explorer/types.js';
import { LayerChart } from '../chart.js';
import { Loaded, type RequestState } from '../request.js';

export function LayersView({ similarity }: { similarity: RequestState<SimilarityResponse> | null }): JSX.Element {
  if (!similarity) return <p class="hint">Type a second sentence (B) to compare the two layer by layer.</p>;
  return (
    <Loaded request={similarity} what="the per-layer similarity">
      {(d) => (
        <section class="card" aria-labelledby="layers-title">
          <h3 id="layers-title">Similarity of A and B after each layer</h3>
          <p class="hint">
            Cosine of the two sentences' mean-pooled <code>hidden_states[i]</code> (each sentence alone, {d.tokens.a}{' '}
            and {d.tokens.b} tokens). The last point is the mean-pooled output; the headline similarity uses the model's
            own pooling.
          </p>
          <LayerChart layers={d.layers} />
        </section>
      )}
    </Loaded>
  );
}
