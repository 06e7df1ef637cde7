import { Matrix, Vocabulary } from '@freshet/core';
import { readTextFile } from './files.js';

/** Reads vectors in the word2vec text format (`count dim` header, then `word v1 ... vdim`). */
export function readWord2VecText(path: string): { vocab: Vocabulary; vectors: Matrix } {
  const lines = readTextFile(path, 'word2vec text file').split('\n');
  const [count, dim] = lines[0].trim().split(/\s+/).map(Number);
  if (!(count >= 0) || !(dim > 0)) throw new Error(`${path}: the first line must be "count dim", got ${JSON.stringify(lines[0])}`);
  const vocab = new Vocabulary();
  const vectors = new Matrix(dim, 0, { capacity: Math.max(1, count) });
  for (let i = 1; i < lines.length; i++) {
    const parts = lines[i].trimEnd().split(' ');
    if (parts.length < dim + 1) continue;
    const id = vocab.add(parts[0]);
    if (id < vectors.rows) continue; // a repeated word keeps its first vector
    const row = vectors.addRows(1);
    const d = vectors.data;
    for (let f = 0; f < dim; f++) d[row * dim + f] = Number(parts[parts.length - dim + f]);
  }
  return { vocab, vectors };
}
