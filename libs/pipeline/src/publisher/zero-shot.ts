import { readFileSync } from 'node:fs';
import { vectorToBytes, type EmbeddingRecord } from '@freshet/avro';
import { zeroShotLabels, type WordVectors, type ZeroShotMethod } from '@freshet/core';
import { Counter, Gauge, type Logger, type Registry } from '@freshet/runtime';
import type { EntityState } from './entity-state.js';

/** The label names a deployment may serve: a file (one per line) or a comma-separated list. */
export function readLabelCatalogue(spec: string): string[] {
  if (spec.trim() === '') return [];
  const text = spec.includes(',') || !/[/\\.]/.test(spec) ? spec.replace(/,/g, '\n') : readFileSync(spec, 'utf8');
  return [
    ...new Set(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    ),
  ];
}

/** The zero-shot metrics: registered by every publisher (0 with --zero-shot off) so dashboards and alerts always find them. */
export function zeroShotMetrics(registry: Registry) {
  const registers = [registry];
  return {
    labels: new Gauge({
      name: 'freshet_zero_shot_labels',
      help: 'Zero-shot labels in the last snapshot: labels of the catalogue no image event has carried, their vectors synthesised from their words.',
      registers,
    }),
    basis: new Gauge({
      name: 'freshet_zero_shot_seen_labels_with_words',
      help: 'Learned labels whose words have vectors: what the word-to-label link is fit on (below 10, no zero-shot label is published).',
      registers,
    }),
    validation: new Gauge({
      name: 'freshet_zero_shot_validation_cosine',
      help: 'Mean cosine between synthesised and learned vectors of a fifth of the learned labels, at the last fit (how well words predict labels here).',
      registers,
    }),
    failures: new Counter({
      name: 'freshet_zero_shot_failures_total',
      help: 'Snapshots cut without refreshing the zero-shot labels because their synthesis failed (the learned rows are published regardless).',
      registers,
    }),
  };
}

/**
 * Zero-shot labels in the publisher, the one place both models meet (and whole, however many
 * trainers feed it): before each version is cut, every catalogue label that no image event has
 * carried and whose words have vectors gets a LABEL row synthesised from the learned labels
 * (core's zeroShotLabels), marked zeroShot. A learned row for the label replaces it the moment a
 * trainer sends one (same key). Learned rows are never changed.
 */
export class ZeroShotLabels {
  constructor(
    private readonly method: ZeroShotMethod,
    private readonly catalogue: readonly string[],
    private readonly m: ReturnType<typeof zeroShotMetrics>,
    private readonly logger: Logger,
  ) {}

  /** Refreshes the zero-shot rows in `state` (upserting those that changed); never throws. */
  refresh(state: EntityState): void {
    try {
      this.synthesise(state);
    } catch (err) {
      this.m.failures.inc();
      this.logger.error({ err }, 'zero-shot labels not refreshed: the snapshot carries the previous ones');
    }
  }

  private synthesise(state: EntityState): void {
    const labels = state.of('LABEL');
    const words = state.of('WORD');
    if (labels === undefined || words === undefined) return;
    const learned = [...labels.ids()].filter((id) => !labels.isZeroShot(id));
    const dim = labels.dim;
    const seen = { names: learned, dim, vectors: new Float32Array(learned.length * dim), biases: new Float32Array(learned.length) };
    learned.forEach((id, j) => {
      seen.vectors.set(labels.vector(id) as Float32Array, j * dim);
      seen.biases[j] = labels.bias(id) as number;
    });
    const wordDim = words.dim;
    // the vocabulary's mean, removed before words are compared (see WordVectors.mean)
    const sum = new Float64Array(wordDim);
    for (const id of words.ids()) {
      const v = words.vectorBytes(id) as Buffer;
      for (let d = 0; d < wordDim; d++) sum[d] += v.readFloatLE(d * 4);
    }
    const lookup: WordVectors = {
      dim: wordDim,
      mean: Float32Array.from(sum, (x) => x / Math.max(1, words.size)),
      vectorOf: (w) => words.vector(w) ?? null,
    };
    const z = zeroShotLabels(this.method, seen, this.catalogue, lookup);
    this.m.basis.set(z.seenWithWords);
    if (z.model !== null) this.m.validation.set(z.model.validationCosine);
    for (let j = 0; j < z.names.length; j++) {
      const vector = vectorToBytes(z.vectors.subarray(j * dim, (j + 1) * dim));
      const before = labels.vectorBytes(z.names[j]);
      if (before !== undefined && labels.bias(z.names[j]) === z.biases[j] && before.equals(vector)) continue;
      const record: EmbeddingRecord = {
        kind: 'LABEL',
        id: z.names[j],
        dim,
        vector,
        version: state.version,
        // no event made it: it never moves the event-time watermark
        updatedAt: state.eventTimeHighWatermark,
        bias: z.biases[j],
        zeroShot: true,
      };
      state.upsert(record);
    }
    let count = 0;
    for (const id of labels.ids()) if (labels.isZeroShot(id)) count++;
    this.m.labels.set(count);
  }
}
