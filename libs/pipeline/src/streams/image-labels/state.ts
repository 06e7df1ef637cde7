import type { ImageLabelModel, Optimizer } from '@freshet/core';
import type { Blob } from '../../trainer/checkpoint.js';
import { appendNames, blobOf, gatherLists, gatherRows, patchLists, patchNames, patchRows } from '../../trainer/increments.js';
import type { LearnerState } from '../../trainer/learner.js';
import type { ImageEviction } from './eviction.js';

/**
 * The image-label learner's part of a checkpoint: the whole model (full), or the rows changed
 * since the checkpoint before (increment), and the fold of an increment into the state it follows.
 */

/** The part of a full checkpoint's header. */
export interface FullHeader {
  width: number;
  dim: number;
  labelBias: boolean;
  optimizer: Optimizer;
  /** every image row's name ('' for a free row) */
  images: string[];
  labels: string[];
}

/** ... and of an increment's: image rows named by imageRows, labels added since. */
interface IncrementHeader extends Omit<FullHeader, 'images' | 'labels'> {
  /** image rows the model holds */
  images: number;
  /** the names of the rows in imageRows ('' for a row freed and not taken again) */
  imageNames: string[];
  labelsFrom: number;
  labels: string[];
}

const shape = (m: ImageLabelModel): Omit<FullHeader, 'images' | 'labels'> => ({
  width: m.width,
  dim: m.dim,
  labelBias: m.config.labelBias,
  optimizer: m.config.optimizer,
});

/** The whole model (copies). */
export function fullState(m: ImageLabelModel, eviction: ImageEviction | null): LearnerState {
  const n = m.images.size;
  const starts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + m.positives.count(i);
  const flat = new Int32Array(starts[n]);
  for (let i = 0; i < n; i++) flat.set(m.positives.list(i), starts[i]);
  const rows = (data: Float32Array, count: number): Float32Array => data.slice(0, count * m.width);
  const blobs: Record<string, Blob> = {
    imageVectors: rows(m.imageVectors.data, n),
    labelVectors: rows(m.labelVectors.data, m.labels.size),
    labelCounts: Float64Array.from(m.labels.counts),
    positivesFlat: flat,
    positivesStart: starts,
  };
  if (eviction !== null) blobs.imageLastSeen = eviction.export();
  if (m.imageAccumulators !== null && m.labelAccumulators !== null) {
    blobs.imageAccumulators = rows(m.imageAccumulators.data, n);
    blobs.labelAccumulators = rows(m.labelAccumulators.data, m.labels.size);
  }
  const header: FullHeader = { ...shape(m), images: m.images.allNames().slice(), labels: m.labels.allNames().slice() };
  return { header: header as unknown as Record<string, unknown>, blobs };
}

/** The image rows `images` and label rows `labels` (with what is kept per row), the labels from `labelsFrom` on, the counts whole (copies). */
export function incrementState(m: ImageLabelModel, eviction: ImageEviction | null, images: Int32Array, labels: Int32Array, labelsFrom: number): LearnerState {
  const w = m.width;
  const lists = gatherLists((i) => m.positives.list(i), images);
  const blobs: Record<string, Blob> = {
    imageRows: images,
    imageVectors: gatherRows(m.imageVectors.data, w, images),
    labelRows: labels,
    labelVectors: gatherRows(m.labelVectors.data, w, labels),
    labelCounts: Float64Array.from(m.labels.counts),
    positivesFlat: lists.flat,
    positivesStart: lists.start,
  };
  if (eviction !== null) blobs.imageLastSeen = gatherRows(eviction.times(), 1, images);
  if (m.imageAccumulators !== null && m.labelAccumulators !== null) {
    blobs.imageAccumulators = gatherRows(m.imageAccumulators.data, w, images);
    blobs.labelAccumulators = gatherRows(m.labelAccumulators.data, w, labels);
  }
  const names = m.images.allNames();
  const header: IncrementHeader = {
    ...shape(m),
    images: m.images.size,
    imageNames: Array.from(images, (id) => names[id]),
    labelsFrom,
    labels: m.labels.allNames().slice(labelsFrom),
  };
  return { header: header as unknown as Record<string, unknown>, blobs };
}

/** A full state with an increment folded in: what a full export would have held when the increment was taken. */
export function mergeIncrement(base: LearnerState, increment: LearnerState): LearnerState {
  const b = base.header as unknown as FullHeader;
  const h = increment.header as unknown as IncrementHeader;
  const inc = <T extends Blob>(name: string): T => blobOf<T>(increment, name);
  const was = <T extends Blob>(name: string): T => blobOf<T>(base, name);
  const n = h.images;
  const labels = appendNames(b.labels, h.labelsFrom, h.labels, 'labels');
  const imageRows = inc<Int32Array>('imageRows');
  const labelRows = inc<Int32Array>('labelRows');
  const lists = patchLists({ flat: was('positivesFlat'), start: was('positivesStart') }, n, imageRows, {
    flat: inc('positivesFlat'),
    start: inc('positivesStart'),
  });
  const blobs: Record<string, Blob> = {
    imageVectors: patchRows(was<Float32Array>('imageVectors'), h.width, n, imageRows, inc<Float32Array>('imageVectors')),
    labelVectors: patchRows(was<Float32Array>('labelVectors'), h.width, labels.length, labelRows, inc<Float32Array>('labelVectors')),
    labelCounts: inc<Float64Array>('labelCounts'),
    positivesFlat: lists.flat,
    positivesStart: lists.start,
  };
  if (increment.blobs.imageLastSeen !== undefined) {
    // a base written without eviction counts every image as seen at 1 (as a restore does)
    const seen = (base.blobs.imageLastSeen as Float64Array | undefined) ?? new Float64Array(b.images.length).fill(1);
    blobs.imageLastSeen = patchRows(seen, 1, n, imageRows, inc<Float64Array>('imageLastSeen'));
  }
  if (increment.blobs.imageAccumulators !== undefined && base.blobs.imageAccumulators !== undefined) {
    blobs.imageAccumulators = patchRows(was<Float32Array>('imageAccumulators'), h.width, n, imageRows, inc<Float32Array>('imageAccumulators'));
    blobs.labelAccumulators = patchRows(was<Float32Array>('labelAccumulators'), h.width, labels.length, labelRows, inc<Float32Array>('labelAccumulators'));
  }
  const header: FullHeader = {
    width: h.width,
    dim: h.dim,
    labelBias: h.labelBias,
    optimizer: h.optimizer,
    images: patchNames(b.images, n, imageRows, h.imageNames),
    labels,
  };
  return { header: header as unknown as Record<string, unknown>, blobs };
}
