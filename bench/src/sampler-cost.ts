/**
 * Sampler cost and draw quality as the number of labels grows, on partly trained models.
 *
 *   npm run bench:sampler -- [--labels 100,1000,10000,100000] [--seed 1] [--lambda 0.1]
 *
 * Cost: nanoseconds per negative draw (context setup and amortised table refreshes included, as
 * in training) for adaptive, adaptive with re-scoring, WARP and uniform. Quality: the share of
 * draws that land in the true top-λ ranks of the current model (positives excluded), beside an
 * exact rank sampler's share.
 */
import { writeFileSync } from 'node:fs';
import {
  ImageLabelModel,
  Rng,
  createSampler,
  defaultImageLabelConfig,
  defaultSamplerConfig,
  observeAll,
  trainImageLabelSteps,
  type NegativeSampler,
  type SamplerConfig,
} from '@freshet/core';
import { generateSynthetic } from '@freshet/datasets';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const labelCounts = listArg(args, 'labels', [100, 1000, 10_000, 100_000]);
const seed = numberArg(args, 'seed', 1);
const lambdaFraction = numberArg(args, 'lambda', 0.1);
const images = numberArg(args, 'images', 10_000);
const trainSteps = numberArg(args, 'train-steps', 500_000);
const timeBudget = numberArg(args, 'seconds-per-sampler', 0.5);
const qualityContexts = numberArg(args, 'quality-contexts', 200);

interface Variant {
  name: string;
  config: Partial<SamplerConfig>;
}
const variants: Variant[] = [
  { name: 'adaptive', config: { kind: 'adaptive', lambdaFraction, candidates: 1 } },
  { name: 'adaptive-rescore4', config: { kind: 'adaptive', lambdaFraction, candidates: 4 } },
  { name: 'warp', config: { kind: 'warp' } },
  { name: 'uniform', config: { kind: 'uniform' } },
  { name: 'exact', config: { kind: 'exact', lambdaFraction } },
];

function build(model: ImageLabelModel, v: Variant, rng: Rng): NegativeSampler {
  return createSampler({ ...defaultSamplerConfig, ...v.config, fallback: 'uniform' }, model.labelVectors, () => model.labels.counts, rng);
}

const rows: unknown[] = [];
for (const n of labelCounts) {
  const rng = new Rng(seed);
  const data = generateSynthetic({ images, labels: n, rank: 16, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed });
  const model = new ImageLabelModel({ ...defaultImageLabelConfig, dim: 100 }, rng.fork());
  const pairs = observeAll(model, data);
  for (let a = 0; a < n; a++) model.labelId(`l${a}`); // every label has a row, seen or not
  // partly trained: uniform SGD until the scores carry structure
  const warm = createSampler({ ...defaultSamplerConfig, kind: 'uniform' }, model.labelVectors, () => model.labels.counts, rng.fork());
  trainImageLabelSteps(model, pairs, warm, trainSteps, 0.05, rng.fork());
  const k = model.dim;
  const u = model.imageVectors.data;
  const v = model.labelVectors.data;
  const row: Record<string, unknown> = { labels: model.labels.size, lambda: lambdaFraction * model.labels.size };
  for (const variant of variants) {
    if (variant.name === 'exact' && n > 10_000) continue;
    const sampler = build(model, variant, rng.fork());
    const pick = rng.fork();
    // cost: one context per draw, as in image-label training
    let draws = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < timeBudget * 1000) {
      for (let j = 0; j < 256; j++) {
        const p = pick.nextInt(pairs.length);
        const image = pairs.images[p];
        sampler.setContext(u, image * k);
        const positives = model.positivesOf(image);
        sampler.draw(pairs.labels[p], positives, positives.length);
      }
      draws += 256;
      elapsed = performance.now() - t0;
    }
    // quality: exact ranks of drawn items among non-positives, for a sample of contexts
    const lambda = lambdaFraction * model.labels.size;
    const scores = new Float32Array(model.labels.size);
    let inTop = 0;
    let scored = 0;
    let rankSum = 0;
    const qualityRng = new Rng(seed + 17);
    for (let c = 0; c < qualityContexts; c++) {
      const p = qualityRng.nextInt(pairs.length);
      const image = pairs.images[p];
      const positives = model.positivesOf(image);
      for (let a = 0; a < scores.length; a++) {
        let s = 0;
        for (let f = 0; f < k; f++) s += u[image * k + f] * v[a * k + f];
        scores[a] = s;
      }
      for (let j = 0; j < positives.length; j++) scores[positives[j]] = Number.NEGATIVE_INFINITY;
      sampler.setContext(u, image * k);
      for (let d = 0; d < 20; d++) {
        const a = sampler.draw(pairs.labels[p], positives, positives.length);
        if (a < 0) continue;
        let above = 0;
        for (let b = 0; b < scores.length; b++) if (scores[b] > scores[a]) above++;
        if (above < lambda) inTop++;
        rankSum += above + 1;
        scored++;
      }
    }
    row[variant.name] = {
      nsPerDraw: Math.round((elapsed * 1e6) / draws),
      shareInTopLambda: scored > 0 ? Number((inTop / scored).toFixed(4)) : null,
      meanRank: scored > 0 ? Math.round(rankSum / scored) : null,
      stats: sampler.stats,
    };
    process.stderr.write(`[sampler] labels=${n} ${variant.name}: ${JSON.stringify(row[variant.name])}\n`);
  }
  rows.push(row);
}
const result = {
  benchmark: 'sampler-cost',
  settings: { labelCounts, seed, lambdaFraction, images, trainSteps, timeBudgetSeconds: timeBudget, qualityContexts, dim: 100 },
  notes: 'nsPerDraw includes setContext and amortised refreshes; WARP returns when it finds a violator (or gives up at |A|-1 draws); exact is skipped above 10,000 labels (O(|A| log |A|) per context)',
  rows,
  environment: runEnvironment(),
};
const json = JSON.stringify(result, null, 2);
const out = args.get('out');
if (out !== undefined) writeFileSync(out, json + '\n');
process.stdout.write(json + '\n');
