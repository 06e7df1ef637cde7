import { cosine, type Matrix } from '../math/matrix.js';
import type { Vocabulary } from '../vocabulary.js';

export interface SimilarityPair {
  a: string;
  b: string;
  score: number;
}

export interface SimilarityResult {
  spearman: number;
  /** pairs with both words in the vocabulary */
  used: number;
  /** pairs with a word missing from the vocabulary (left out of the correlation) */
  oov: number;
  total: number;
}

/** Parses `word1<TAB>word2<TAB>score` lines (blank lines ignored, CRLF tolerated). */
export function parseSimilarityFile(text: string, source = 'similarity file'): SimilarityPair[] {
  const pairs: SimilarityPair[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const parts = line.split('\t');
    const score = Number(parts[2]);
    if (parts.length < 3 || !Number.isFinite(score)) {
      throw new Error(`${source}:${i + 1}: expected word1<TAB>word2<TAB>score, got ${JSON.stringify(line)}`);
    }
    pairs.push({ a: parts[0], b: parts[1], score });
  }
  return pairs;
}

/** Ranks with ties given their average rank (needed for Spearman on tied human scores). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[x] - values[y]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson correlation of average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error('spearman: lengths differ');
  const n = x.length;
  if (n < 2) return Number.NaN;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += rx[i];
    my += ry[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i] - mx;
    const dy = ry[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman between human scores and cosine similarity of word vectors. Words are looked up as
 * given, then lowercased (the WS-353 files keep case: "Jerusalem").
 */
export function evaluateSimilarity(vocab: Vocabulary, vectors: Matrix, pairs: readonly SimilarityPair[]): SimilarityResult {
  const human: number[] = [];
  const model: number[] = [];
  let oov = 0;
  const lookup = (w: string): number => {
    const id = vocab.idOf(w);
    return id >= 0 ? id : vocab.idOf(w.toLowerCase());
  };
  for (const p of pairs) {
    const a = lookup(p.a);
    const b = lookup(p.b);
    if (a < 0 || b < 0) {
      oov++;
      continue;
    }
    human.push(p.score);
    model.push(cosine(vectors.data, a * vectors.cols, vectors.data, b * vectors.cols, vectors.cols));
  }
  return { spearman: spearman(human, model), used: human.length, oov, total: pairs.length };
}
