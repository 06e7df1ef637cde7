import type { Matrix } from '../math/matrix.js';

export interface Neighbour {
  id: number;
  score: number;
}

/** Row norms, computed once per query batch (cosine needs them for every candidate). */
export function rowNorms(m: Matrix): Float32Array {
  const norms = new Float32Array(m.rows);
  const d = m.data;
  const k = m.cols;
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let f = 0; f < k; f++) s += d[r * k + f] * d[r * k + f];
    norms[r] = Math.sqrt(s);
  }
  return norms;
}

/**
 * The `count` rows of `candidates` most similar to `query` (a vector of the same width) by cosine,
 * or by inner product when `norms` is null, plus `offsets[r]` when given (label biases). A bounded
 * min-heap keeps it O(n log count).
 */
export function nearest(
  query: Float32Array,
  candidates: Matrix,
  count: number,
  norms: Float32Array | null,
  skip: (id: number) => boolean = () => false,
  offsets?: Float32Array,
): Neighbour[] {
  const k = candidates.cols;
  const d = candidates.data;
  let qn = 0;
  for (let f = 0; f < k; f++) qn += query[f] * query[f];
  qn = Math.sqrt(qn) || 1;
  const heap: Neighbour[] = [];
  for (let r = 0; r < candidates.rows; r++) {
    if (skip(r)) continue;
    let s = 0;
    for (let f = 0; f < k; f++) s += query[f] * d[r * k + f];
    if (norms !== null) s /= qn * (norms[r] || 1);
    else if (offsets !== undefined) s += offsets[r];
    if (heap.length < count) {
      heap.push({ id: r, score: s });
      siftUp(heap, heap.length - 1);
    } else if (s > heap[0].score) {
      heap[0] = { id: r, score: s };
      siftDown(heap, 0);
    }
  }
  return heap.sort((a, b) => b.score - a.score);
}

function siftUp(h: Neighbour[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].score <= h[i].score) return;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function siftDown(h: Neighbour[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l].score < h[m].score) m = l;
    if (r < h.length && h[r].score < h[m].score) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i], h[m]];
    i = m;
  }
}
