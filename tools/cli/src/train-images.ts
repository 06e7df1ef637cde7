import { Rng, evaluateAnnotation, leaveOneOut, mergeById, resolvePairs, type AnnotationMetrics, type LabeledImage } from '@freshet/core';
import { generateSynthetic, readImageLabelFile } from '@freshet/datasets';
import { ImageLabelFitter, imageLabelConfig, imageLabelSettings, vseSamplerSpec, type Engine } from '@freshet/kernels';
import { num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { assertWritable } from './files.js';
import { Progress } from './progress.js';
import { writeWord2VecText } from './word2vec-format.js';

export const trainImagesOptions: OptionSpec[] = [
  { name: 'train', kind: 'string', help: 'image_id<TAB>label label ... file' },
  { name: 'test', kind: 'string', help: 'a second file of the same format, merged by image id before the split' },
  { name: 'synthetic-labels', kind: 'number', integer: true, min: 2, help: 'instead of files: a synthetic set with this many labels' },
  { name: 'synthetic-images', kind: 'number', integer: true, min: 1, default: 20_000, help: 'images of the synthetic set' },
  {
    name: 'split',
    kind: 'string',
    default: 'loo',
    choices: ['loo', 'none'],
    help: 'loo: one held-out label per image with >= 2 labels; none: train on everything',
  },
  { name: 'engine', kind: 'string', default: 'wasm', choices: ['wasm', 'js'], help: 'wasm: the SIMD kernel (threads); js: the TypeScript reference' },
  // the model's and sampler's settings, owned by @freshet/kernels (the offline defaults)
  ...imageLabelSettings.options(),
  { name: 'refresh-every', kind: 'number', integer: true, min: 1, help: 'adaptive: draws between rank-table refreshes (default ceil(|A| ln |A|))' },
  { name: 'seconds', kind: 'number', above: 0, default: 2, help: 'training time budget' },
  { name: 'steps', kind: 'number', integer: true, min: 1, help: 'train this many SGD steps instead of a time budget' },
  { name: 'evals', kind: 'number', integer: true, min: 1, default: 10, help: 'held-out evaluations spread over the run' },
  { name: 'max-eval', kind: 'number', integer: true, min: 1, default: 3000, help: 'held-out pairs evaluated (a seeded sample of them when there are more)' },
  { name: 'seed', kind: 'number', integer: true, default: 1, help: 'random seed (splits, init, sampling)' },
  { name: 'threads', kind: 'number', integer: true, min: 1, max: 256, default: 1, help: 'Hogwild threads (wasm engine; 1 is reproducible from the seed)' },
  { name: 'out-labels', kind: 'string', help: 'write label vectors here (word2vec text format)' },
  { name: 'out-images', kind: 'string', help: 'write image vectors here (word2vec text format)' },
  { name: 'quiet', kind: 'boolean', default: false, help: 'no progress bar' },
];

export interface TrainImagesResult {
  command: 'train-images';
  dataset: string;
  images: number;
  labels: number;
  trainPairs: number;
  heldOutPairs: number;
  sampler: string;
  settings: Record<string, unknown>;
  steps: number;
  trainSeconds: number;
  usPerStep: number;
  curve: Array<{ seconds: number; steps: number } & AnnotationMetrics>;
  final: AnnotationMetrics | null;
  samplerStats: Record<string, number>;
}

export function loadImageSet(v: OptionValues): { name: string; images: LabeledImage[] } {
  const synth = v.get('synthetic-labels');
  if (typeof synth === 'number') {
    const images = num(v, 'synthetic-images');
    return {
      name: `synthetic(images=${images},labels=${synth})`,
      images: generateSynthetic({ images, labels: synth, rank: 16, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: num(v, 'seed') }),
    };
  }
  const train = str(v, 'train');
  if (train === undefined) throw new Error('give --train FILE (and optionally --test FILE), or --synthetic-labels N');
  const test = str(v, 'test');
  const sets = [readImageLabelFile(train)];
  if (test !== undefined) sets.push(readImageLabelFile(test));
  return { name: [train, test].filter(Boolean).join(' + '), images: mergeById(...sets) };
}

export async function trainImages(v: OptionValues): Promise<TrainImagesResult> {
  const seed = num(v, 'seed');
  const threads = num(v, 'threads');
  const outLabels = str(v, 'out-labels');
  const outImages = str(v, 'out-images');
  // an unwritable output fails now, not after the training it would have held
  for (const out of [outLabels, outImages]) if (out !== undefined) assertWritable(out);
  const { name, images } = loadImageSet(v);
  if (images.length === 0) throw new Error('the training data holds no labelled images');
  const rng = new Rng(seed);
  const split = str(v, 'split') === 'loo' ? leaveOneOut(images, rng.fork()) : { train: images, test: [] };
  const settings = imageLabelSettings.read(v);
  const kind = settings.sampler;
  const refreshEvery = v.get('refresh-every');
  const trainer = await ImageLabelFitter.create(
    split.train,
    split.test.map((p) => p.label),
    {
      config: imageLabelConfig(settings),
      sampler: vseSamplerSpec(settings, typeof refreshEvery === 'number' ? { refreshEvery } : {}),
      lr: settings.lr,
      engine: str(v, 'engine') as Engine,
      threads,
      seed: rng.fork().nextU32(),
    },
  );
  const model = trainer.model;
  const sample = [...split.test];
  rng.fork().shuffle(sample);
  const heldOut = resolvePairs(model, sample.slice(0, num(v, 'max-eval')));
  const chunk = threads > 1 ? 20_000 : 256;
  const evalRng = rng.fork();
  const budgetSteps = v.get('steps');
  const bySteps = typeof budgetSteps === 'number';
  const total = bySteps ? budgetSteps : num(v, 'seconds');
  const evals = Math.max(1, num(v, 'evals'));
  const progress = new Progress('train-images', total);
  const curve: TrainImagesResult['curve'] = [];
  let steps = 0;
  let seconds = 0;
  try {
    for (let e = 1; e <= evals; e++) {
      // evaluation points on a quadratic grid: early learning is fast and deserves a finer look
      const until = total * (e / evals) ** 2;
      const t0 = performance.now();
      while ((bySteps ? steps : seconds + (performance.now() - t0) / 1000) < until) {
        const n = bySteps ? Math.min(chunk, until - steps) : chunk;
        await trainer.train(n);
        steps += n;
        progress.update(bySteps ? steps : seconds + (performance.now() - t0) / 1000, `${steps} steps`);
      }
      seconds += (performance.now() - t0) / 1000;
      // evaluation is outside the time budget: say so, a big model's evaluation can take a while
      progress.update(bySteps ? steps : seconds, `${steps} steps, evaluating ${heldOut.length} held-out pairs`);
      if (heldOut.length > 0) curve.push({ seconds, steps, ...evaluateAnnotation(model, heldOut, evalRng, trainer.scorer()) });
    }
  } finally {
    progress.finish();
    await trainer.close();
  }
  if (outLabels) await writeWord2VecText(outLabels, model.labels, model.labelVectors, model.dim);
  if (outImages) await writeWord2VecText(outImages, model.images, model.imageVectors, model.dim);
  return {
    command: 'train-images',
    dataset: name,
    images: model.images.size,
    labels: model.labels.size,
    trainPairs: trainer.pairs.length,
    heldOutPairs: heldOut.length,
    sampler: kind,
    settings: Object.fromEntries([...v].filter(([k]) => k !== 'quiet')),
    steps,
    trainSeconds: seconds,
    usPerStep: (seconds * 1e6) / Math.max(1, steps),
    curve,
    final: curve.length > 0 ? curve[curve.length - 1] : null,
    samplerStats: { ...trainer.counters() },
  };
}
