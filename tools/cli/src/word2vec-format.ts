import { createWriteStream } from 'node:fs';
import type { Matrix, Vocabulary } from '@freshet/core';

/**
 * Writes vectors in the word2vec text format: a header `count dim`, then `name v1 ... vdim` per
 * line. gensim's KeyedVectors.load_word2vec_format, fastText users and most tools load it as is.
 * Names with whitespace would break the format, so whitespace inside a name becomes '_'.
 */
export async function writeWord2VecText(path: string, vocab: Vocabulary, vectors: Matrix, dim = vectors.cols): Promise<void> {
  const out = createWriteStream(path);
  // rows may be wider than dim (a bias lane, SIMD padding): the first dim components are the vector
  const w = vectors.cols;
  const d = vectors.data;
  out.write(`${vocab.size} ${dim}\n`);
  for (let id = 0; id < vocab.size; id++) {
    const parts = new Array<string>(dim);
    for (let f = 0; f < dim; f++) parts[f] = d[id * w + f].toPrecision(6);
    const ok = out.write(`${vocab.nameOf(id).replace(/\s/g, '_')} ${parts.join(' ')}\n`);
    if (!ok) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
