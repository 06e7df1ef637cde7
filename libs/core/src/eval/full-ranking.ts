/**
 * Full-ranking metrics for label spaces at scale: every label an image has not trained on is
 * ranked (no sampled negatives: sampled metrics disagree with full ones, Krichene & Rendle, KDD
 * 2020), and the image's held-out labels are scored against that ranking.
 */

/** A model's rows as the metrics read them: image and label vectors (row-major, `dim` each) and label biases. */
export interface RankingModel {
  dim: number;
  labelCount: number;
  labelVectors: Float32Array;
  /** floats from one label's row to the next (default dim: a model's rows may carry a bias lane and padding) */
  labelStride?: number;
  /** per label, added to the dot product; null: none */
  labelBiases: Float32Array | null;
  /** the image's vector (a view) */
  imageVector(image: number): Float32Array;
  /** a faster way to score every label (a kernel's SIMD scorer); absent: scored from the rows above */
  scorer?: LabelBlockScorer;
}

/** Scores every label for up to `block` images at once, image b's at into[b * labels + l], bias included. */
export interface LabelBlockScorer {
  block: number;
  score(images: Int32Array, into: Float32Array): void;
}

/** One image to evaluate: its row, the labels it trained on (left out of the ranking) and the held-out ones. */
export interface RankingCase {
  image: number;
  trained: Int32Array;
  truth: Int32Array;
}

export interface FullRankingScores {
  images: number;
  /** held-out labels in the first 20, over the held-out labels (LightGCN's Recall@20) */
  recall20: number;
  ndcg20: number;
  /** held-out labels in the first 5, over 5 */
  p5: number;
  /** average precision of the held-out labels over the whole ranking */
  map: number;
  /** seconds spent scoring and ranking (reported apart from training) */
  seconds: number;
}

const K = 20;

/** Means of the metrics over the cases. Scores every label once per image; no allocation per label. */
export function fullRanking(model: RankingModel, cases: readonly RankingCase[]): FullRankingScores {
  const t0 = performance.now();
  const n = model.labelCount;
  const stride = model.labelStride ?? model.dim;
  const block = model.scorer?.block ?? 1;
  const blockScores = new Float32Array(block * n);
  const blockImages = new Int32Array(block);
  let recall = 0;
  let ndcg = 0;
  let p5 = 0;
  let ap = 0;
  let counted = 0;
  let held = new Float64Array(64);
  let order = new Int32Array(64);
  const todo = cases.filter((c) => c.truth.length > 0);
  for (let k = 0; k < todo.length; k++) {
    const c = todo[k];
    const inBlock = k % block;
    if (inBlock === 0) {
      const count = Math.min(block, todo.length - k);
      for (let j = 0; j < count; j++) blockImages[j] = todo[k + j].image;
      if (model.scorer !== undefined) model.scorer.score(blockImages.subarray(0, count), blockScores);
      else scoreFromRows(model, stride, c.image, blockScores);
    }
    const scores = blockScores.subarray(inBlock * n, (inBlock + 1) * n);
    for (let j = 0; j < c.trained.length; j++) scores[c.trained[j]] = Number.NEGATIVE_INFINITY;
    if (held.length < c.truth.length) {
      held = new Float64Array(c.truth.length * 2);
      order = new Int32Array(c.truth.length * 2);
    }
    rankHeldOut(scores, c.truth, held, order);
    const r = held.subarray(0, c.truth.length).sort();
    let hits20 = 0;
    let dcg = 0;
    let idcg = 0;
    let hits5 = 0;
    let precisionSum = 0;
    for (let j = 0; j < r.length; j++) {
      if (r[j] < K) {
        hits20++;
        dcg += 1 / Math.log2(r[j] + 2);
      }
      if (r[j] < 5) hits5++;
      // held-out labels rank among each other too: the (j+1)-th found sits at rank r[j] (0-based)
      precisionSum += (j + 1) / (r[j] + 1);
    }
    for (let j = 0; j < Math.min(K, r.length); j++) idcg += 1 / Math.log2(j + 2);
    recall += hits20 / r.length;
    ndcg += dcg / idcg;
    p5 += hits5 / 5;
    ap += precisionSum / r.length;
    counted++;
  }
  const mean = (x: number): number => (counted === 0 ? 0 : x / counted);
  return { images: counted, recall20: mean(recall), ndcg20: mean(ndcg), p5: mean(p5), map: mean(ap), seconds: (performance.now() - t0) / 1000 };
}

/**
 * Each held-out label's rank (the labels scoring above it; ties: the lower index first) into
 * ranks[0..t), in one pass over the labels: the held-out labels are sorted by (score desc, index)
 * and every label is placed among them by binary search, so the cost is n log t, not n t.
 */
function rankHeldOut(scores: Float32Array, truth: Int32Array, ranks: Float64Array, order: Int32Array): void {
  const t = truth.length;
  for (let j = 0; j < t; j++) order[j] = truth[j];
  const sorted = order.subarray(0, t).sort((a, b) => scores[b] - scores[a] || a - b);
  // ranks[k] first counts the labels that sort before sorted[k] but not before sorted[k - 1]
  ranks.fill(0, 0, t);
  const n = scores.length;
  // most labels score below every held-out one once the model learns: one comparison places them
  const lowest = scores[sorted[t - 1]];
  for (let l = 0; l < n; l++) {
    const s = scores[l];
    if (s < lowest) continue;
    // the first held-out label that l sorts before (t: none)
    let lo = 0;
    let hi = t;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = sorted[mid];
      const sm = scores[m];
      if (s > sm || (s === sm && l < m)) hi = mid;
      else lo = mid + 1;
    }
    if (lo < t) ranks[lo]++;
  }
  // prefix sums give each held-out label's count of labels above it (the held-out ones above included)
  for (let k = 1; k < t; k++) ranks[k] += ranks[k - 1];
}

/** Every label's score for one image from the model's rows: the reference when no scorer is given. */
function scoreFromRows(model: RankingModel, stride: number, image: number, into: Float32Array): void {
  const { dim, labelCount: n, labelVectors: v, labelBiases: b } = model;
  const u = model.imageVector(image);
  for (let l = 0; l < n; l++) {
    let s = b === null ? 0 : b[l];
    const o = l * stride;
    for (let d = 0; d < dim; d++) s += u[d] * v[o + d];
    into[l] = s;
  }
}
