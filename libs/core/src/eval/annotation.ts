import { dot } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import type { ImageLabelModel } from '../models/image-label.js';

export interface AnnotationMetrics {
  p5: number;
  p10: number;
  r5: number;
  r10: number;
  map: number;
  auc: number;
  /** test pairs evaluated (pairs whose image or label the model never saw are counted as misses) */
  pairs: number;
  /** test pairs whose image or label the model has no vector for */
  unknown: number;
}

export interface HeldOutPair {
  image: number;
  label: number;
}

/** Resolves (image name, label name) pairs to model ids; unknown names become -1. */
export function resolvePairs(model: ImageLabelModel, pairs: ReadonlyArray<{ id: string; label: string }>): HeldOutPair[] {
  return pairs.map((p) => ({ image: model.images.idOf(p.id), label: model.labels.idOf(p.label) }));
}

/**
 * Leave-one-out annotation metrics with the training labels filtered out of the ranking. With one
 * relevant label per test image: P@k = hit@k / k, R@k = hit@k, MAP = mean 1/rank, AUC from one
 * random non-positive per pair (ties count half).
 */
export function evaluateAnnotation(
  model: ImageLabelModel,
  pairs: readonly HeldOutPair[],
  rng: Rng,
  /** fills the scores of every label for an image (a kernel's SIMD scorer); default: dot products here */
  scorer?: (image: number, into: Float32Array) => void,
): AnnotationMetrics {
  const n = model.labels.size;
  const k = model.width;
  const u = model.imageVectors.data;
  const v = model.labelVectors.data;
  const scores = new Float32Array(n);
  const score =
    scorer ??
    ((image: number, into: Float32Array): void => {
      for (let a = 0; a < n; a++) into[a] = dot(u, image * k, v, a * k, k);
    });
  let hit5 = 0;
  let hit10 = 0;
  let ap = 0;
  let auc = 0;
  let unknown = 0;
  for (const { image, label } of pairs) {
    if (image < 0 || label < 0) {
      unknown++;
      continue;
    }
    score(image, scores);
    const positives = model.positivesOf(image);
    for (let j = 0; j < positives.length; j++) if (positives[j] !== label) scores[positives[j]] = Number.NEGATIVE_INFINITY;
    const target = scores[label];
    // written as !(s <= target) so that NaN scores (a diverged model) rank above the target
    // and a NaN target ranks last: divergence must never look like a perfect ranking
    let above = 0;
    for (let a = 0; a < n; a++) if (a !== label && !(scores[a] <= target)) above++;
    const rank = Math.min(above + 1, n);
    if (rank <= 5) hit5++;
    if (rank <= 10) hit10++;
    ap += 1 / rank;
    // AUC: one random non-positive label
    const candidates = n - positives.length - (isIn(positives, label) ? 0 : 1);
    if (candidates > 0) {
      let neg: number;
      do neg = rng.nextInt(n);
      while (neg === label || isIn(positives, neg));
      auc += target > scores[neg] ? 1 : target === scores[neg] ? 0.5 : 0;
    } else {
      auc += 1;
    }
  }
  const m = pairs.length;
  if (m === 0) return { p5: 0, p10: 0, r5: 0, r10: 0, map: 0, auc: 0, pairs: 0, unknown };
  return { p5: hit5 / 5 / m, p10: hit10 / 10 / m, r5: hit5 / m, r10: hit10 / m, map: ap / m, auc: auc / m, pairs: m, unknown };
}

function isIn(list: Int32Array, x: number): boolean {
  for (let j = 0; j < list.length; j++) if (list[j] === x) return true;
  return false;
}
