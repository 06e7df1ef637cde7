import type { LabeledImage } from '@freshet/core';
import { dataFile, readTextFile } from './files.js';

/**
 * The label-space-scale sets (issue 16): Gowalla check-ins (29,858 x 40,981), MIRFLICKR-25k user
 * tags (20,015 x 1,386) and Delicious tags (16,105 x 983), each read as images (the rows, known by
 * id only) and their labels. data/README.md and each folder's PROVENANCE.md say where they come from.
 */

export type GowallaPart = 'train' | 'valid' | 'test';

/**
 * A part of LightGCN's Gowalla split: one `user item item ...` line per user. Users are the images
 * and locations the labels (ids as decimal strings); `transpose` reads locations as images.
 */
export function readGowalla(part: GowallaPart, options: { transpose?: boolean } = {}): LabeledImage[] {
  const text = readTextFile(dataFile('gowalla', `${part}.txt`), 'Gowalla file');
  const images: LabeledImage[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || fields[0] === '') continue;
    images.push({ id: fields[0], labels: [...new Set(fields.slice(1))] });
  }
  return options.transpose === true ? transposeLabels(images) : images;
}

/** Labels as images and images as labels: who carries each label, in order of first appearance. */
export function transposeLabels(images: readonly LabeledImage[]): LabeledImage[] {
  const byLabel = new Map<string, string[]>();
  for (const img of images) for (const l of img.labels) (byLabel.get(l) ?? byLabel.set(l, []).get(l))?.push(img.id);
  return [...byLabel].map(([id, labels]) => ({ id, labels }));
}

/** MIRFLICKR-25k's user tags: `item<TAB>label` pairs under a header line (tags known by index). */
export function readMirflickrTags(): LabeledImage[] {
  const text = readTextFile(dataFile('mirflickr25k-tags', 'mirflickr25k_tags_pairs.tsv'), 'MIRFLICKR-25k tag pairs');
  const byImage = new Map<string, string[]>();
  for (const line of text.split('\n').slice(1)) {
    const [item, label] = line.trim().split('\t');
    if (item === undefined || label === undefined || item === '') continue;
    (byImage.get(item) ?? byImage.set(item, []).get(item))?.push(label);
  }
  return [...byImage].map(([id, labels]) => ({ id, labels }));
}

/**
 * Delicious (MULAN sparse ARFF): 500 word features, then 983 `TAG_*` label attributes. The tags
 * alone, pages known by row index; pages with no tag are left out.
 */
export function readDelicious(): LabeledImage[] {
  return readSparseArffLabels(readTextFile(dataFile('delicious', 'delicious.arff'), 'Delicious ARFF'), 'TAG_');
}

/**
 * The labels of a MULAN sparse ARFF: attributes whose name starts with `labelPrefix` are labels
 * (named without it); each data row `{index value, ...}` carries the labels whose value is 1.
 */
export function readSparseArffLabels(text: string, labelPrefix: string): LabeledImage[] {
  const labelNames = new Map<number, string>();
  let attribute = 0;
  let row = 0;
  let inData = false;
  const images: LabeledImage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('%')) continue;
    if (!inData) {
      const m = /^@attribute\s+('[^']*'|"[^"]*"|\S+)/i.exec(line);
      if (m) {
        const name = m[1].replace(/^['"]|['"]$/g, '');
        if (name.startsWith(labelPrefix)) labelNames.set(attribute, name.slice(labelPrefix.length));
        attribute++;
      } else if (/^@data/i.test(line)) inData = true;
      continue;
    }
    if (!line.startsWith('{')) throw new Error(`sparse ARFF: data row ${row} is not sparse ({index value, ...})`);
    const labels: string[] = [];
    for (const cell of line.slice(1, -1).split(',')) {
      const [index, value] = cell.trim().split(/\s+/);
      const name = labelNames.get(Number(index));
      if (name !== undefined && value === '1') labels.push(name);
    }
    if (labels.length > 0) images.push({ id: String(row), labels });
    row++;
  }
  if (labelNames.size === 0) throw new Error(`sparse ARFF: no attribute starts with ${labelPrefix}`);
  return images;
}
