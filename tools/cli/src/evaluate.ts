import { readImageLabelFile } from '@freshet/datasets';
import { type OptionSpec, type OptionValues, str } from '@freshet/runtime';
import { latestSnapshot, snapshotOptions } from './snapshot.js';

export const evaluateOptions: OptionSpec[] = [
  ...snapshotOptions.filter((o) => ['neighbours', 'labels-of', 'count', 'kind', 'export-word2vec', 'export-npy'].indexOf(o.name) < 0),
  { name: 'test', kind: 'string', required: true, help: 'held-out labels: image_id<TAB>label (one held-out label per line; several are several pairs)' },
  { name: 'train', kind: 'string', help: "the images' training labels (image_id<TAB>label ...), left out of the ranking as in training" },
];

/**
 * `freshet evaluate`: held-out P@5, P@10 and MAP of the latest published snapshot, scoring every
 * label for each test image as downstream readers do (image · label + bias), with the image's
 * training labels left out of the ranking.
 */
export async function evaluate(v: OptionValues): Promise<Record<string, unknown>> {
  const test = readImageLabelFile(str(v, 'test') ?? '');
  const trainFile = str(v, 'train');
  const known = new Map((trainFile !== undefined ? readImageLabelFile(trainFile) : []).map((i) => [i.id, new Set(i.labels)]));
  const reader = await latestSnapshot(v);
  const snap = reader.current;
  if (snap === null) throw new Error('no complete snapshot published yet');
  const labels = snap.tables.get('LABEL');
  const images = snap.tables.get('IMAGE');
  if (labels === undefined || images === undefined) throw new Error('the snapshot holds no image-label model');
  let pairs = 0;
  let unknown = 0;
  let hit5 = 0;
  let hit10 = 0;
  let ap = 0;
  const d = labels.vectors.cols;
  for (const img of test) {
    const row = images.vocab.idOf(img.id);
    for (const label of img.labels) {
      const target = labels.vocab.idOf(label);
      pairs++;
      if (row < 0 || target < 0) {
        unknown++;
        continue;
      }
      const score = (a: number): number => {
        let s = labels.biases[a];
        for (let f = 0; f < d; f++) s += images.vectors.data[row * d + f] * labels.vectors.data[a * d + f];
        return s;
      };
      const t = score(target);
      const skip = known.get(img.id);
      let above = 0;
      for (let a = 0; a < labels.vocab.size; a++) if (a !== target && !(skip?.has(labels.vocab.nameOf(a)) ?? false) && !(score(a) <= t)) above++;
      const rank = above + 1;
      if (rank <= 5) hit5++;
      if (rank <= 10) hit10++;
      ap += 1 / rank;
    }
  }
  const n = Math.max(1, pairs);
  // what makes the figures mean less than they seem, said on stderr and in the result
  const warnings: string[] = [];
  if (trainFile === undefined)
    warnings.push(
      'no --train file: every label is ranked, including the ones each image was trained on, so a held-out label competes with labels the model was taught for that image (P@k reads low); give the training labels with --train',
    );
  if (unknown > 0) warnings.push(`${unknown} of ${pairs} test pairs name an image or label the snapshot does not hold: they count as misses`);
  const overlap = test.reduce((k, img) => k + img.labels.filter((l) => known.get(img.id)?.has(l) === true).length, 0);
  if (overlap > 0) warnings.push(`${overlap} test pairs are also training pairs in --train: they are not held out, and the figures read high`);
  for (const w of warnings) process.stderr.write(`freshet evaluate: ${w}\n`);
  return { command: 'evaluate', version: snap.version, pairs, unknown, p5: hit5 / 5 / n, p10: hit10 / 10 / n, map: ap / n, warnings };
}
