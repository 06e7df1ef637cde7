import type { LabeledImage } from '../data.js';
import type { Rng } from '../math/rng.js';

export interface LeaveOneOutSplit {
  /** every image with its training labels (all of them, minus the held-out one) */
  train: LabeledImage[];
  /** one held-out label per image that has at least two labels */
  test: Array<{ id: string; label: string }>;
}

/**
 * The papers' protocol: one random label of each image with >= 2 labels goes to test, the rest
 * to training, so every test image is also a training image (an id-only image has no vector
 * otherwise). Duplicate labels of an image are merged first.
 */
export function leaveOneOut(images: readonly LabeledImage[], rng: Rng): LeaveOneOutSplit {
  const train: LabeledImage[] = [];
  const test: Array<{ id: string; label: string }> = [];
  for (const image of images) {
    const labels = [...new Set(image.labels)];
    if (labels.length >= 2) {
      const held = rng.nextInt(labels.length);
      test.push({ id: image.id, label: labels[held] });
      labels.splice(held, 1);
    }
    train.push({ id: image.id, labels });
  }
  return { train, test };
}

/** Merges images that appear in several files (e.g. train and test of Corel5k) by id. */
export function mergeById(...sets: ReadonlyArray<readonly LabeledImage[]>): LabeledImage[] {
  const byId = new Map<string, Set<string>>();
  for (const set of sets) {
    for (const image of set) {
      const labels = byId.get(image.id) ?? new Set<string>();
      for (const l of image.labels) labels.add(l);
      byId.set(image.id, labels);
    }
  }
  return [...byId].map(([id, labels]) => ({ id, labels: [...labels] }));
}

/** A split that holds out a share of each image's labels: every test image trains on the rest. */
export interface ShareSplit {
  train: LabeledImage[];
  /** per image with a held-out label: those labels (what a full ranking is scored against) */
  test: LabeledImage[];
}

/**
 * Holds out `share` of each image's labels (rounded, at least one, never all: an image with one
 * label only trains), seeded: the split of the tag sets at scale (Recall@k over a full ranking).
 */
export function holdOutShare(images: readonly LabeledImage[], share: number, rng: Rng): ShareSplit {
  const train: LabeledImage[] = [];
  const test: LabeledImage[] = [];
  for (const image of images) {
    const labels = [...new Set(image.labels)];
    const held = labels.length < 2 ? 0 : Math.min(labels.length - 1, Math.max(1, Math.round(share * labels.length)));
    // a partial Fisher-Yates: the last `held` positions are a uniform sample
    for (let i = labels.length - 1; i >= labels.length - held; i--) {
      const j = rng.nextInt(i + 1);
      [labels[i], labels[j]] = [labels[j], labels[i]];
    }
    train.push({ id: image.id, labels: labels.slice(0, labels.length - held) });
    if (held > 0) test.push({ id: image.id, labels: labels.slice(labels.length - held) });
  }
  return { train, test };
}
