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
  const { dim, labelCount: n, labelVectors: v, labelBiases: b } = model;
  const stride = model.labelStride ?? dim;
  const scores = new Float32Array(n);
  const ranks = new Float64Array(64);
  let recall = 0;
  let ndcg = 0;
  let p5 = 0;
  let ap = 0;
  let counted = 0;
  let held = ranks;
  for (const c of cases) {
    if (c.truth.length === 0) continue;
    const u = model.imageVector(c.image);
    for (let l = 0; l < n; l++) {
      let s = b === null ? 0 : b[l];
      const o = l * stride;
      for (let d = 0; d < dim; d++) s += u[d] * v[o + d];
      scores[l] = s;
    }
    for (let j = 0; j < c.trained.length; j++) scores[c.trained[j]] = Number.NEGATIVE_INFINITY;
    if (held.length < c.truth.length) held = new Float64Array(c.truth.length * 2);
    // each held-out label's rank: the labels scoring above it (ties: the lower index first)
    for (let j = 0; j < c.truth.length; j++) {
      const t = c.truth[j];
      const st = scores[t];
      let above = 0;
      for (let l = 0; l < n; l++) if (scores[l] > st || (scores[l] === st && l < t)) above++;
      held[j] = above;
    }
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
