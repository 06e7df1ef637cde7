/**
 * Negative-sampler cost and draw quality as the number of labels grows, in the WebAssembly kernel
 * the trainer runs, on partly trained models.
 *
 *   npm run bench:sampler -- [--labels 100,1000,10000,100000] [--seed 1] [--lambda 0.1]
 *
 * Cost: nanoseconds per negative draw, each for a uniformly drawn observed pair (its own context),
 * timed over a window of at least two full refresh periods of the rank tables, so the refreshes
 * made inline (the papers' sampler) are amortised inside it; with the refresher on its own thread
 * the draw thread never waits and the refresh's CPU is reported beside. Quality: the share of
 * draws that land in the true top-λ ranks of the current model (positives excluded), measured at
 * eight moments of a refresh period while the model trains on: the tables age between refreshes.
 * An exact rank sampler's share is (1 - e^-1) / (1 - e^(-|A|/λ)), about 0.632.
 */
import { Rng, defaultImageLabelConfig, refreshCadence, type LabeledImage } from '@freshet/core';
import { generateSynthetic } from '@freshet/datasets';
import { ImageLabelFitter, type VseSamplerSpec } from '@freshet/kernels';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const labelCounts = listArg(args, 'labels', [100, 1000, 10_000, 100_000]);
const seed = numberArg(args, 'seed', 1);
const lambdaFraction = numberArg(args, 'lambda', 0.1);
const images = numberArg(args, 'images', 10_000);
const warmSteps = numberArg(args, 'train-steps', 2_000_000);
const minSeconds = numberArg(args, 'seconds-per-sampler', 0.5);
const qualityContexts = numberArg(args, 'quality-contexts', 100);
const dim = 100;

interface Variant {
  name: string;
  sampler: Partial<VseSamplerSpec>;
}
const variants: Variant[] = [
  { name: 'uniform', sampler: { kind: 'uniform' } },
  { name: 'dns-3', sampler: { kind: 'uniform', candidates: 3 } },
  { name: 'warp-30', sampler: { kind: 'warp', maxSampled: 30 } },
  { name: 'warp', sampler: { kind: 'warp' } },
  { name: 'adaptive', sampler: { kind: 'adaptive', lambdaFraction } },
  { name: 'adaptive-async', sampler: { kind: 'adaptive', lambdaFraction, asyncRefresh: true } },
];

async function trainerFor(data: LabeledImage[], labels: string[], sampler: Partial<VseSamplerSpec>): Promise<ImageLabelFitter> {
  return ImageLabelFitter.create(data, labels, {
    config: { ...defaultImageLabelConfig, dim, optimizer: 'adagrad', labelBias: true, reg: 0.003 },
    sampler: { kind: 'uniform', candidates: 1, maxSampled: Number.POSITIVE_INFINITY, lambdaFraction, mixShare: 0, maxRetries: 10, ...sampler },
    lr: 0.05,
    engine: 'wasm',
    threads: 1,
    seed,
  });
}

/** Share of a variant's draws in the exact top-λ ranks, over sampled contexts. */
function drawQuality(trainer: ImageLabelFitter, lambda: number, rng: Rng): { shareInTopLambda: number; meanRank: number } {
  const kernel = trainer.kernel;
  if (kernel === null) throw new Error('wasm engine expected');
  const model = trainer.model;
  let inTop = 0;
  let scored = 0;
  let rankSum = 0;
  for (let c = 0; c < qualityContexts; c++) {
    const p = rng.nextInt(trainer.pairs.length);
    const image = trainer.pairs.images[p];
    const positives = new Set(model.positivesOf(image));
    const scores = Float32Array.from(kernel.scoreLabels([image]));
    for (const j of positives) scores[j] = Number.NEGATIVE_INFINITY;
    for (const a of kernel.sampleNegatives(image, trainer.pairs.labels[p], 20)) {
      if (a < 0) continue;
      let above = 0;
      for (let b = 0; b < scores.length; b++) if (scores[b] > scores[a]) above++;
      if (above < lambda) inTop++;
      rankSum += above + 1;
      scored++;
    }
  }
  return { shareInTopLambda: scored > 0 ? round(inTop / scored) : 0, meanRank: scored > 0 ? Math.round(rankSum / scored) : 0 };
}

const rows: unknown[] = [];
for (const n of labelCounts) {
  const data = generateSynthetic({ images, labels: n, rank: 16, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed });
  const allLabels = Array.from({ length: n }, (_, a) => `l${a}`);
  // one partly trained model, copied into every variant's kernel (same ids: same data, same order)
  const warm = await trainerFor(data, allLabels, { kind: 'uniform' });
  await warm.train(warmSteps);
  const lambda = lambdaFraction * warm.model.labels.size;
  const cadence = refreshCadence(warm.model.labels.size);
  const row: Record<string, unknown> = {
    labels: warm.model.labels.size,
    lambda,
    refreshCadenceDraws: cadence,
    exactShareInTopLambda: round((1 - Math.exp(-1)) / (1 - Math.exp(-warm.model.labels.size / lambda))),
  };
  for (const variant of variants) {
    const t = await trainerFor(data, allLabels, variant.sampler);
    const kernel = t.kernel;
    if (kernel === null) throw new Error('wasm engine expected');
    const copy = (from: Float32Array, to: Float32Array, rowsCount: number, width: number): void => to.set(from.subarray(0, rowsCount * width));
    copy(warm.model.imageVectors.data, t.model.imageVectors.data, warm.model.images.size, warm.model.width);
    copy(warm.model.labelVectors.data, t.model.labelVectors.data, warm.model.labels.size, warm.model.width);
    // cost: a window of at least two refresh periods (inline refreshes amortised inside it)
    kernel.drawRandom(Math.min(cadence, 100_000));
    const c0 = kernel.counters();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let draws = 0;
    // only the rank tables have a refresh period to cover
    const periodDraws = variant.sampler.kind === 'adaptive' ? 2 * cadence : 0;
    while (draws < periodDraws || performance.now() - t0 < minSeconds * 1000) {
      kernel.drawRandom(4096);
      draws += 4096;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const c1 = kernel.counters();
    // quality while the tables age: train on with the variant, measure at eight moments of a period
    const aging: Array<{ ageOfPeriod: number; shareInTopLambda: number }> = [];
    const qualityRng = new Rng(seed + 17);
    if (variant.sampler.kind === 'adaptive' && variant.sampler.asyncRefresh !== true) {
      kernel.refreshTables();
      for (let k = 1; k <= 8; k++) {
        kernel.trainRandom(Math.max(1, Math.floor(cadence / 8) - 1), 0.05);
        aging.push({ ageOfPeriod: k / 8, shareInTopLambda: drawQuality(t, lambda, qualityRng).shareInTopLambda });
      }
    }
    const quality = drawQuality(t, lambda, qualityRng);
    row[variant.name] = {
      nsPerDraw: Math.round((seconds * 1e9) / draws),
      cpuNsPerDraw: Math.round(((cpu.user + cpu.system) * 1e3) / draws),
      windowDraws: draws,
      refreshesInWindow: c1.refreshes - c0.refreshes,
      refreshSecondsInWindow: round(c1.refreshSeconds - c0.refreshSeconds),
      ...quality,
      ...(aging.length > 0 ? { qualityWhileTablesAge: aging } : {}),
    };
    process.stderr.write(`[sampler] labels=${n} ${variant.name}: ${JSON.stringify(row[variant.name])}\n`);
    await t.close();
  }
  await warm.close();
  rows.push(row);
}
const result = {
  benchmark: 'sampler-cost',
  settings: {
    labelCounts,
    seed,
    lambdaFraction,
    images,
    warmSteps,
    minSecondsPerSampler: minSeconds,
    qualityContexts,
    dim,
    optimizer: 'adagrad',
    labelBias: true,
  },
  notes:
    'nsPerDraw: wall time per draw on the drawing thread, one context per draw, over a window of at least two refresh periods (inline refreshes amortised inside it); cpuNsPerDraw adds every thread of the process (the refresher thread of adaptive-async). WARP without a cap scores up to |A| - 1 candidates per draw.',
  rows,
  environment: runEnvironment(),
};
emitResult(result, args.get('out'));

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
