/**
 * Sorting of an id permutation by float keys, descending, tuned for rank tables: a refresh
 * re-sorts each list starting from its previous order, which is nearly sorted because SGD moves
 * vectors a little between refreshes. Insertion sort is O(n + inversions) on such input (6-10x
 * cheaper than sorting from scratch in calibration); when the input turns out far from sorted it
 * gives up after a budget of moves and finishes with an O(n log n) quicksort.
 */
export function sortIdsByKeyDesc(ids: Int32Array, keys: Float32Array, n: number, moveBudget = 8 * n): void {
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const key = keys[i];
    if (key <= keys[i - 1]) continue;
    const id = ids[i];
    let j = i - 1;
    while (j >= 0 && keys[j] < key) {
      keys[j + 1] = keys[j];
      ids[j + 1] = ids[j];
      j--;
    }
    keys[j + 1] = key;
    ids[j + 1] = id;
    moves += i - 1 - j;
    if (moves > moveBudget) {
      quickSortDesc(ids, keys, 0, n - 1);
      return;
    }
  }
}

function quickSortDesc(ids: Int32Array, keys: Float32Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    partitionDesc(ids, keys, lo, hi);
    const i = splitI;
    const j = splitJ;
    // recurse into the smaller side, loop on the larger: bounded stack depth
    if (j - lo < hi - i) {
      quickSortDesc(ids, keys, lo, j);
      lo = i;
    } else {
      quickSortDesc(ids, keys, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const key = keys[i];
    const id = ids[i];
    let j = i - 1;
    while (j >= lo && keys[j] < key) {
      keys[j + 1] = keys[j];
      ids[j + 1] = ids[j];
      j--;
    }
    keys[j + 1] = key;
    ids[j + 1] = id;
  }
}

/** Where the last partitionDesc split its range: [lo, splitJ] >= pivot >= [splitI, hi]. */
let splitI = 0;
let splitJ = 0;

/**
 * Hoare partition of [lo, hi] around a median-of-three pivot (which keeps nearly sorted input at
 * O(n log n)), larger keys first; the split lands in splitI/splitJ (no allocation per call).
 */
function partitionDesc(ids: Int32Array, keys: Float32Array, lo: number, hi: number): void {
  const mid = (lo + hi) >>> 1;
  if (keys[mid] > keys[lo]) swap(ids, keys, mid, lo);
  if (keys[hi] > keys[lo]) swap(ids, keys, hi, lo);
  if (keys[hi] > keys[mid]) swap(ids, keys, hi, mid);
  const pivot = keys[mid];
  let i = lo;
  let j = hi;
  while (i <= j) {
    while (keys[i] > pivot) i++;
    while (keys[j] < pivot) j--;
    if (i <= j) {
      swap(ids, keys, i, j);
      i++;
      j--;
    }
  }
  splitI = i;
  splitJ = j;
}

function swap(ids: Int32Array, keys: Float32Array, a: number, b: number): void {
  const k = keys[a];
  keys[a] = keys[b];
  keys[b] = k;
  const t = ids[a];
  ids[a] = ids[b];
  ids[b] = t;
}

/**
 * Puts the m largest keys, sorted descending, in [0, m) and the m smallest, sorted descending,
 * in [n - m, n); the middle is left in any order. The adaptive sampler draws rank r with
 * p ∝ exp(-r/λ), so with m = 10λ a rank beyond m has probability e^-10 and only the two ends of
 * each list need to be exact: O(n + m log m) per list instead of O(n log n).
 */
export function partialSortIdsByKeyDesc(ids: Int32Array, keys: Float32Array, n: number, m: number): void {
  if (2 * m >= n) {
    sortIdsByKeyDesc(ids, keys, n);
    return;
  }
  selectDesc(ids, keys, 0, n - 1, m);
  quickSortDesc(ids, keys, 0, m - 1);
  selectDesc(ids, keys, m, n - 1, n - m);
  quickSortDesc(ids, keys, n - m, n - 1);
}

/** Hoare quickselect: afterwards every key in [lo, k) >= every key in [k, hi]. */
function selectDesc(ids: Int32Array, keys: Float32Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    partitionDesc(ids, keys, lo, hi);
    if (k <= splitJ) hi = splitJ;
    else if (k >= splitI) lo = splitI;
    else return;
  }
}
