import {
  ImageLabelModel,
  ImageLabelPool,
  Rng,
  createSampler,
  defaultImageLabelConfig,
  defaultSamplerConfig,
  evaluateAnnotation,
  leaveOneOut,
  mergeById,
  observeAll,
  resolvePairs,
  trainImageLabelSteps,
  type AnnotationMetrics,
  type LabeledImage,
  type SamplerConfig,
  type SamplerKind,
} from '@freshet/core';
import { generateSynthetic, readImageLabelFile } from '@freshet/datasets';
import { num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { Progress } from './progress.js';
import { writeWord2VecText } from './word2vec-format.js';

export const trainImagesOptions: OptionSpec[] = [
  { name: 'train', kind: 'string', help: 'image_id<TAB>label label ... file' },
  { name: 'test', kind: 'string', help: 'a second file of the same format, merged by image id before the split' },
  { name: 'synthetic-labels', kind: 'number', help: 'instead of files: a synthetic set with this many labels' },
  { name: 'synthetic-images', kind: 'number', default: 20_000, help: 'images of the synthetic set' },
  { name: 'split', kind: 'string', default: 'loo', choices: ['loo', 'none'], help: 'loo: one held-out label per image with >= 2 labels; none: train on everything' },
  { name: 'sampler', kind: 'string', default: 'adaptive', choices: ['adaptive', 'warp', 'uniform', 'popularity', 'exact'], help: 'negative sampler' },
  { name: 'dim', kind: 'number', default: 100, help: 'vector dimension' },
  { name: 'lr', kind: 'number', default: 0.01, help: 'learning rate (constant, the paper setting)' },
  { name: 'reg', kind: 'number', default: 0.01, help: 'L2 regularisation' },
  { name: 'lambda', kind: 'number', default: 0.3, help: 'adaptive: λ as a fraction of the number of labels' },
  { name: 'candidates', kind: 'number', default: 1, help: 'adaptive: candidates re-scored exactly per draw (1 = paper)' },
  { name: 'mix-share', kind: 'number', default: 0, help: 'adaptive: share of uniform draws mixed in' },
  { name: 'refresh-every', kind: 'number', help: 'adaptive: draws between rank-table refreshes (default ceil(|A| ln |A|))' },
  { name: 'max-sampled', kind: 'number', help: 'WARP: cap on draws per step (default |A| - 1)' },
  { name: 'alpha', kind: 'number', default: 1, help: 'popularity: exponent on label counts' },
  { name: 'seconds', kind: 'number', default: 2, help: 'training time budget' },
  { name: 'steps', kind: 'number', help: 'train this many SGD steps instead of a time budget' },
  { name: 'evals', kind: 'number', default: 10, help: 'held-out evaluations spread over the run' },
  { name: 'seed', kind: 'number', default: 1, help: 'random seed (splits, init, sampling)' },
  { name: 'threads', kind: 'number', default: 1, help: 'Hogwild worker threads (1 is reproducible from the seed)' },
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
  sampler: SamplerKind;
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
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${threads}`);
  const { name, images } = loadImageSet(v);
  const rng = new Rng(seed);
  const split = str(v, 'split') === 'loo' ? leaveOneOut(images, rng.fork()) : { train: images, test: [] };
  const model = new ImageLabelModel({ ...defaultImageLabelConfig, dim: num(v, 'dim'), reg: num(v, 'reg') }, rng.fork(), threads > 1);
  const pairs = observeAll(model, split.train);
  for (const p of split.test) model.labelId(p.label);
  const heldOut = resolvePairs(model, split.test);
  const kind = str(v, 'sampler') as SamplerKind;
  const refreshEvery = v.get('refresh-every');
  const maxSampled = v.get('max-sampled');
  const samplerConfig: SamplerConfig = {
      ...defaultSamplerConfig,
      kind,
      lambdaFraction: num(v, 'lambda'),
      candidates: num(v, 'candidates'),
      mixShare: num(v, 'mix-share'),
      alpha: num(v, 'alpha'),
      ...(typeof refreshEvery === 'number' ? { refreshEvery } : {}),
      ...(typeof maxSampled === 'number' ? { maxSampled } : {}),
  };
  const sampler = createSampler(samplerConfig, model.labelVectors, () => model.labels.counts, rng.fork());
  const lr = num(v, 'lr');
  const stepRng = rng.fork();
  // one thread trains here, reproducibly; more threads share the model Hogwild-style
  const pool = threads > 1 ? ImageLabelPool.start(model, pairs, samplerConfig, lr, threads, seed) : null;
  const trainChunk = async (n: number): Promise<void> => {
    if (pool) await pool.train(n);
    else trainImageLabelSteps(model, pairs, sampler, n, lr, stepRng);
  };
  const chunk = pool ? 20_000 : 256;
  const evalRng = rng.fork();
  const budgetSteps = v.get('steps');
  const bySteps = typeof budgetSteps === 'number';
  const total = bySteps ? budgetSteps : num(v, 'seconds');
  const evals = Math.max(1, num(v, 'evals'));
  const progress = new Progress('train-images', total);
  const curve: TrainImagesResult['curve'] = [];
  let steps = 0;
  let seconds = 0;
  for (let e = 1; e <= evals; e++) {
    // evaluation points on a quadratic grid: early learning is fast and deserves a finer look
    const until = total * (e / evals) ** 2;
    const t0 = performance.now();
    while ((bySteps ? steps : seconds + (performance.now() - t0) / 1000) < until) {
      const n = bySteps ? Math.min(chunk, until - steps) : chunk;
      await trainChunk(n);
      steps += n;
      progress.update(bySteps ? steps : seconds + (performance.now() - t0) / 1000, `${steps} steps`);
    }
    seconds += (performance.now() - t0) / 1000;
    if (heldOut.length > 0) curve.push({ seconds, steps, ...evaluateAnnotation(model, heldOut, evalRng) });
  }
  progress.finish();
  const samplerStats = pool ? pool.stats() : sampler.stats;
  await pool?.close();
  const outLabels = str(v, 'out-labels');
  if (outLabels) await writeWord2VecText(outLabels, model.labels, model.labelVectors);
  const outImages = str(v, 'out-images');
  if (outImages) await writeWord2VecText(outImages, model.images, model.imageVectors);
  return {
    command: 'train-images',
    dataset: name,
    images: model.images.size,
    labels: model.labels.size,
    trainPairs: pairs.length,
    heldOutPairs: heldOut.length,
    sampler: kind,
    settings: Object.fromEntries([...v].filter(([k]) => k !== 'quiet')),
    steps,
    trainSeconds: seconds,
    usPerStep: (seconds * 1e6) / Math.max(1, steps),
    curve,
    final: curve.length > 0 ? curve[curve.length - 1] : null,
    samplerStats: { ...samplerStats },
  };
}

