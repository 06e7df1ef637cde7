import { labelWordVector, type WordVectors } from './label-words.js';
import { fitZeroShot, type SeenLabels, type ZeroShotMethod, type ZeroShotModel } from './zero-shot.js';

/** Label rows as a model holds them: names, row-major vectors and biases (null: none). */
export interface LabelRows {
  names: readonly string[];
  dim: number;
  vectors: Float32Array;
  biases: Float32Array | null;
}

/** Labels given vectors from their words: rows like LabelRows, and what they came from. */
export interface ZeroShotLabels extends LabelRows {
  biases: Float32Array;
  /** null when fewer than MIN_SEEN_LABELS seen labels have word vectors (then no rows) */
  model: ZeroShotModel | null;
  /** seen labels that have a word vector: what the link was fit on */
  seenWithWords: number;
  /** candidates left out: seen already, or a word without a vector */
  skipped: number;
}

/**
 * Label vectors for the candidate labels that no image has carried (not among `seen`), from the
 * vectors of the words they name: fits `method` on the seen labels that have word vectors, then
 * synthesises a row for every candidate whose words all have vectors.
 */
export function zeroShotLabels(method: ZeroShotMethod, seen: LabelRows, candidates: Iterable<string>, words: WordVectors, seed = 1): ZeroShotLabels {
  const width = seen.dim + 1;
  const wordRows: Float32Array[] = [];
  const labelRows: number[] = [];
  for (let j = 0; j < seen.names.length; j++) {
    const w = labelWordVector(seen.names[j], words);
    if (w === null) continue;
    wordRows.push(w);
    labelRows.push(j);
  }
  const pairs: SeenLabels = {
    count: wordRows.length,
    wordDim: words.dim,
    labelWidth: width,
    words: new Float32Array(wordRows.length * words.dim),
    labels: new Float32Array(wordRows.length * width),
  };
  for (let r = 0; r < wordRows.length; r++) {
    pairs.words.set(wordRows[r], r * words.dim);
    const j = labelRows[r];
    pairs.labels.set(seen.vectors.subarray(j * seen.dim, (j + 1) * seen.dim), r * width);
    pairs.labels[r * width + seen.dim] = seen.biases?.[j] ?? 0;
  }
  const model = fitZeroShot(method, pairs, seed);
  const known = new Set(seen.names);
  const names: string[] = [];
  const rows: Float32Array[] = [];
  let skipped = 0;
  for (const name of candidates) {
    const w = known.has(name) || model === null ? null : labelWordVector(name, words);
    if (w === null) {
      skipped++;
      continue;
    }
    const out = new Float32Array(width);
    model?.predict(w, out);
    names.push(name);
    rows.push(out);
  }
  const vectors = new Float32Array(names.length * seen.dim);
  const biases = new Float32Array(names.length);
  for (let j = 0; j < names.length; j++) {
    vectors.set(rows[j].subarray(0, seen.dim), j * seen.dim);
    biases[j] = rows[j][seen.dim];
  }
  return { names, dim: seen.dim, vectors, biases, model, seenWithWords: wordRows.length, skipped };
}
