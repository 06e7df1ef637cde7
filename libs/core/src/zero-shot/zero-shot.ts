import { Rng } from '../math/rng.js';

/**
 * How a label no image event has carried gets a label vector from its word vector:
 *  - map: a ridge regression from word space to label space (vector and bias), fit on the labels
 *    that have both (DeViSE's linear link, fit in closed form);
 *  - mix: the label-side form of ConSE, a softmax-weighted mix of the label vectors of the seen
 *    labels whose words are nearest (cosine) to its word.
 * Either leaves every trained row as it is: seen labels rank exactly as without it.
 */
export const ZERO_SHOT_METHODS = ['map', 'mix'] as const;
export type ZeroShotMethod = (typeof ZERO_SHOT_METHODS)[number];

/** Labels seen in both spaces: row j of `words` (unit word vector) and of `labels` (label vector then bias). */
export interface SeenLabels {
  count: number;
  wordDim: number;
  /** label vector components plus one for the bias */
  labelWidth: number;
  words: Float32Array;
  labels: Float32Array;
}

/** A fitted synthesiser: writes a label row (vector then bias) for a unit word vector. */
export interface ZeroShotModel {
  readonly method: ZeroShotMethod;
  /** the setting validation chose: ridge λ (map) or temperature τ (mix) */
  readonly chosen: number;
  /** mean cosine between synthesised and learned vectors of the validation labels at that setting */
  readonly validationCosine: number;
  predict(word: Float32Array, out: Float32Array): void;
}

/** Fewer seen labels than this and no synthesiser is fit (nothing to learn a link from). */
export const MIN_SEEN_LABELS = 10;
const RIDGE_GRID = [0.01, 0.1, 1, 10, 100];
const TEMPERATURE_GRID = [0.02, 0.05, 0.1, 0.2, 0.5];
/** seen labels a mix draws on */
const MIX_NEIGHBOURS = 10;

/**
 * Fits a synthesiser, its one setting chosen on a seeded fifth of the seen labels (the one whose
 * synthesised vectors point most nearly where their learned ones do), then refit on them all.
 * Null below MIN_SEEN_LABELS.
 */
export function fitZeroShot(method: ZeroShotMethod, seen: SeenLabels, seed = 1): ZeroShotModel | null {
  if (seen.count < MIN_SEEN_LABELS) return null;
  const order = Int32Array.from({ length: seen.count }, (_, i) => i);
  new Rng(seed).shuffle(order);
  const valCount = Math.max(2, Math.floor(seen.count / 5));
  const val = subset(seen, order.subarray(0, valCount));
  const train = subset(seen, order.subarray(valCount));
  const grid = method === 'map' ? RIDGE_GRID : TEMPERATURE_GRID;
  let best = grid[0];
  let bestCos = -Infinity;
  for (const g of grid) {
    const c = meanCosine(build(method, train, g), val);
    if (c > bestCos) {
      bestCos = c;
      best = g;
    }
  }
  const model = build(method, seen, best);
  return { method, chosen: best, validationCosine: bestCos, predict: model };
}

type Predict = (word: Float32Array, out: Float32Array) => void;

function build(method: ZeroShotMethod, seen: SeenLabels, setting: number): Predict {
  return method === 'map' ? ridgeMap(seen, setting) : neighbourMix(seen, setting);
}

function subset(s: SeenLabels, rows: Int32Array): SeenLabels {
  const words = new Float32Array(rows.length * s.wordDim);
  const labels = new Float32Array(rows.length * s.labelWidth);
  for (let j = 0; j < rows.length; j++) {
    words.set(s.words.subarray(rows[j] * s.wordDim, (rows[j] + 1) * s.wordDim), j * s.wordDim);
    labels.set(s.labels.subarray(rows[j] * s.labelWidth, (rows[j] + 1) * s.labelWidth), j * s.labelWidth);
  }
  return { count: rows.length, wordDim: s.wordDim, labelWidth: s.labelWidth, words, labels };
}

/** Mean cosine (over the vector part, the bias left out) between predicted and learned rows. */
function meanCosine(predict: Predict, val: SeenLabels): number {
  const out = new Float32Array(val.labelWidth);
  const dim = val.labelWidth - 1;
  let total = 0;
  for (let j = 0; j < val.count; j++) {
    predict(val.words.subarray(j * val.wordDim, (j + 1) * val.wordDim), out);
    const y = val.labels.subarray(j * val.labelWidth, j * val.labelWidth + dim);
    let dotp = 0;
    let a = 0;
    let b = 0;
    for (let d = 0; d < dim; d++) {
      dotp += out[d] * y[d];
      a += out[d] * out[d];
      b += y[d] * y[d];
    }
    total += a > 0 && b > 0 ? dotp / Math.sqrt(a * b) : 0;
  }
  return total / val.count;
}

/**
 * W = (XᵀX + λI)⁻¹ XᵀY with a constant input for the intercept, solved by Cholesky in float64:
 * a (wordDim+1)² system, a few milliseconds for any label count.
 */
function ridgeMap(seen: SeenLabels, ridge: number): Predict {
  const n = seen.wordDim + 1;
  const m = seen.labelWidth;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * m);
  const x = new Float64Array(n);
  for (let j = 0; j < seen.count; j++) {
    for (let d = 0; d < seen.wordDim; d++) x[d] = seen.words[j * seen.wordDim + d];
    x[n - 1] = 1;
    for (let p = 0; p < n; p++) {
      const xp = x[p];
      if (xp === 0) continue;
      for (let q = 0; q <= p; q++) a[p * n + q] += xp * x[q];
      for (let c = 0; c < m; c++) b[p * m + c] += xp * seen.labels[j * m + c];
    }
  }
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < p; q++) a[q * n + p] = a[p * n + q];
    a[p * n + p] += ridge;
  }
  const w = choleskySolve(a, b, n, m);
  return (word, out) => {
    for (let c = 0; c < m; c++) {
      let s = w[(n - 1) * m + c];
      for (let d = 0; d < n - 1; d++) s += word[d] * w[d * m + c];
      out[c] = s;
    }
  };
}

/** Solves A X = B for symmetric positive definite A (n x n), B n x m; returns X. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / l[j * n + j];
    }
  }
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
  }
  return x;
}

/** The rows of the MIX_NEIGHBOURS seen labels nearest in word space, weighted by softmax(cos / τ). */
function neighbourMix(seen: SeenLabels, temperature: number): Predict {
  const k = Math.min(MIX_NEIGHBOURS, seen.count);
  const cos = new Float32Array(seen.count);
  const top = new Int32Array(k);
  return (word, out) => {
    for (let j = 0; j < seen.count; j++) {
      let s = 0;
      for (let d = 0; d < seen.wordDim; d++) s += word[d] * seen.words[j * seen.wordDim + d];
      cos[j] = s;
    }
    // k is small: a selection pass per neighbour beats sorting every label
    for (let t = 0; t < k; t++) {
      let best = -1;
      for (let j = 0; j < seen.count; j++) if (cos[j] > -Infinity && (best < 0 || cos[j] > cos[best])) best = j;
      top[t] = best;
      cos[best] = -Infinity;
    }
    out.fill(0);
    // top[0] is the nearest: subtracting its cosine keeps the exponentials in range
    let first = 0;
    for (let d = 0; d < seen.wordDim; d++) first += word[d] * seen.words[top[0] * seen.wordDim + d];
    let total = 0;
    for (let t = 0; t < k; t++) {
      let s = 0;
      for (let d = 0; d < seen.wordDim; d++) s += word[d] * seen.words[top[t] * seen.wordDim + d];
      const weight = Math.exp((s - first) / temperature);
      total += weight;
      for (let c = 0; c < seen.labelWidth; c++) out[c] += weight * seen.labels[top[t] * seen.labelWidth + c];
    }
    for (let c = 0; c < seen.labelWidth; c++) out[c] /= total;
  };
}
