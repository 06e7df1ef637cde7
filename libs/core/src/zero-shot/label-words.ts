/** Word vectors by word: a trained skip-gram model, a snapshot's WORD rows or vectors read from a file. */
export interface WordVectors {
  readonly dim: number;
  /**
   * The vocabulary's mean vector, subtracted before a word is placed: skip-gram vectors share a
   * common direction (all cosines high), and without removing it the nearest words of any word
   * are the frequent ones (Mu & Viswanath, "All-but-the-top", 2018). Absent: not centred.
   */
  readonly mean?: Float32Array;
  /** the word's vector (a view or a copy; not written to), null if the word has none */
  vectorOf(word: string): Float32Array | null;
}

const SEPARATOR = /[^\p{L}\p{N}']+/u;
const DIGIT = /\p{N}/u;

/**
 * The words a label names. The rule (documented in docs/zero-shot.md): lower-case, split at
 * every character that is not a letter, a digit or an apostrophe (`plant_life` → plant, life),
 * and drop every token that holds a digit: MIRFLICKR's `people_r1` (the "relevant" variant of a
 * concept) names the word people, like `people`.
 */
export function labelWords(label: string): string[] {
  return label
    .toLowerCase()
    .split(SEPARATOR)
    .filter((t) => t !== '' && !DIGIT.test(t));
}

/**
 * A label's point in word space: the mean of its words' unit vectors, itself of unit length, or
 * null when the label names no word or one of its words has no vector (a label is placed by all
 * of its words or not at all: half a name says something else).
 */
export function labelWordVector(label: string, words: WordVectors): Float32Array | null {
  const names = labelWords(label);
  if (names.length === 0) return null;
  const out = new Float32Array(words.dim);
  for (const name of names) {
    const raw = words.vectorOf(name);
    if (raw === null) return null;
    const v = words.mean === undefined ? raw : raw.map((x, d) => x - (words.mean as Float32Array)[d]);
    let n = 0;
    for (let d = 0; d < words.dim; d++) n += v[d] * v[d];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let d = 0; d < words.dim; d++) out[d] += v[d] * inv;
  }
  return unit(out);
}

/** The mean of row-major vectors (rows x dim), for WordVectors.mean. */
export function meanVector(data: Float32Array, rows: number, dim: number): Float32Array {
  const sum = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) sum[d] += data[r * dim + d];
  return Float32Array.from(sum, (x) => (rows > 0 ? x / rows : 0));
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (let d = 0; d < v.length; d++) n += v[d] * v[d];
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let d = 0; d < v.length; d++) v[d] *= inv;
  }
  return v;
}
