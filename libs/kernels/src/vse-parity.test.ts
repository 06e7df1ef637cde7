import { describe, expect, it } from 'vitest';
import {
  AdaptiveSampler,
  ImageLabelModel,
  Rng,
  UniformSampler,
  WarpSampler,
  defaultImageLabelConfig,
  observeAll,
  trainImageLabelSteps,
  type ImageLabelConfig,
  type NegativeSampler,
} from '@freshet/core';
import { generateSynthetic } from '@freshet/datasets';
import { VseKernel } from './vse/kernel.js';
import { resolveAutoCandidates, resolveAutoSampler, type VseSamplerSpec } from './vse/spec.js';

const images = generateSynthetic({ images: 300, labels: 40, rank: 4, zipf: 1, meanLabels: 3, topicsPerImage: 2, noise: 0.05, seed: 5 });
const sampler = (kind: VseSamplerSpec['kind'], extra: Partial<VseSamplerSpec> = {}): VseSamplerSpec => ({
  kind,
  candidates: 1,
  maxSampled: Number.POSITIVE_INFINITY,
  lambdaFraction: 0.3,
  mixShare: 0,
  maxRetries: 10,
  ...extra,
});

/** The same model twice, identically initialised: on the JS heap (the reference) and in a kernel. */
function twins(
  config: ImageLabelConfig,
  spec: VseSamplerSpec,
): { ref: ImageLabelModel; model: ImageLabelModel; kernel: VseKernel; pairs: ReturnType<typeof observeAll> } {
  const ref = new ImageLabelModel(config, new Rng(9));
  const pairs = observeAll(ref, images);
  const kernel = VseKernel.create(
    { config: { ...config, imageCap: ref.images.size, labelCap: ref.labels.size }, pairCapacity: pairs.length, sampler: spec },
    1,
  );
  const model = new ImageLabelModel({ ...config, imageCap: ref.images.size, labelCap: ref.labels.size }, new Rng(9), kernel.storage);
  observeAll(model, images);
  kernel.setSizes(model.labels.size, model.images.size);
  kernel.setPairs(pairs);
  return { ref, model, kernel, pairs };
}

function maxDiff(a: Float32Array, b: Float32Array, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('image-label kernel and TypeScript reference: one model, two implementations', () => {
  const cases: Array<[string, Partial<ImageLabelConfig>, VseSamplerSpec, (m: ImageLabelModel, rng: Rng) => NegativeSampler]> = [
    ['SGD, uniform', { optimizer: 'sgd', labelBias: false }, sampler('uniform'), (m, rng) => new UniformSampler(m.labelVectors, rng)],
    ['AdaGrad with biases, uniform', { optimizer: 'adagrad', labelBias: true }, sampler('uniform'), (m, rng) => new UniformSampler(m.labelVectors, rng)],
    [
      'AdaGrad with biases, 3 candidates',
      { optimizer: 'adagrad', labelBias: true },
      sampler('uniform', { candidates: 3 }),
      (m, rng) => new UniformSampler(m.labelVectors, rng, 3),
    ],
    ['SGD with biases, WARP', { optimizer: 'sgd', labelBias: true }, sampler('warp'), (m, rng) => new WarpSampler(m.labelVectors, rng)],
  ];
  for (const [name, over, spec, make] of cases) {
    it(`makes the same updates on the same random stream: ${name}`, () => {
      const config = { ...defaultImageLabelConfig, dim: 10, ...over };
      const { ref, model, kernel, pairs } = twins(config, spec);
      expect(Array.from(model.labelVectors.data.subarray(0, 40 * model.width))).toEqual(Array.from(ref.labelVectors.data.subarray(0, 40 * ref.width)));
      // one stream for the pair choice and the sampler, as the kernel draws both from one
      const rng = new Rng(77);
      kernel.setRngState(rng.state());
      trainImageLabelSteps(ref, pairs, make(ref, rng), 2000, 0.05, rng);
      kernel.trainRandom(2000, 0.05);
      const w = ref.width;
      // float32 SIMD against float64 arithmetic rounded at each store: equal to rounding
      expect(maxDiff(ref.labelVectors.data, model.labelVectors.data, ref.labels.size * w)).toBeLessThan(1e-4);
      expect(maxDiff(ref.imageVectors.data, model.imageVectors.data, ref.images.size * w)).toBeLessThan(1e-4);
      const moved = maxDiff(ref.labelVectors.data, twins(config, spec).ref.labelVectors.data, ref.labels.size * w);
      expect(moved).toBeGreaterThan(1e-2);
      if (config.labelBias) for (let i = 0; i < ref.images.size; i++) expect(model.imageVectors.data[i * w + config.dim]).toBe(1);
      expect(kernel.counters().steps).toBe(2000);
    });
  }

  it('draws from the same distribution with the rank tables as the TypeScript adaptive sampler', () => {
    const config = { ...defaultImageLabelConfig, dim: 8, labelBias: true };
    const { ref, kernel } = twins(config, sampler('adaptive', { lambdaFraction: 0.1 }));
    // spread the label vectors so the rank tables have something to order
    const rng = new Rng(3);
    for (let a = 0; a < ref.labels.size; a++)
      for (let f = 0; f <= config.dim; f++) {
        const x = rng.nextGaussian();
        ref.labelVectors.data[a * ref.width + f] = x;
        kernel.storage.labelVectors.data[a * ref.width + f] = x;
      }
    kernel.refreshTables();
    const ts = new AdaptiveSampler(ref.labelVectors, new Rng(4), new UniformSampler(ref.labelVectors, new Rng(5)), { lambdaFraction: 0.1 });
    ts.refresh();
    const image = 17;
    const positive = ref.positivesOf(image)[0];
    const n = 200_000;
    const fromKernel = new Float64Array(ref.labels.size);
    for (const id of kernel.sampleNegatives(image, positive, n)) fromKernel[id]++;
    const fromTs = new Float64Array(ref.labels.size);
    const exclude = ref.positivesOf(image);
    ts.setContext(ref.imageVectors.data, image * ref.width);
    for (let j = 0; j < n; j++) fromTs[ts.draw(positive, exclude, exclude.length)]++;
    let tv = 0;
    for (let a = 0; a < ref.labels.size; a++) tv += Math.abs(fromKernel[a] - fromTs[a]) / n / 2;
    // total variation distance: sampling noise at 200k draws over 40 labels is about 0.01
    expect(tv).toBeLessThan(0.03);
    for (const p of exclude) expect(fromKernel[p]).toBe(0);
    // and far from uniform: the tables concentrate the draws
    const top =
      [...fromKernel]
        .sort((x, y) => y - x)
        .slice(0, 5)
        .reduce((s, x) => s + x, 0) / n;
    expect(top).toBeGreaterThan(0.3);
  });

  it('auto samples uniformly below its first threshold, keeps the hardest of its candidates from there, and runs WARP from its second', () => {
    const config = { ...defaultImageLabelConfig, dim: 8, labelBias: true };
    // 40 labels against the thresholds
    const below = twins(config, sampler('auto', { autoDnsLabels: 100, autoLabels: 200 })).kernel;
    below.sampleNegatives(3, 0, 1000);
    expect(below.counters().candidatesScored).toBe(0);
    const middle = twins(config, sampler('auto', { autoDnsLabels: 30, autoLabels: 200, autoCandidates: 4 })).kernel;
    middle.sampleNegatives(3, 0, 1000);
    expect(middle.counters().candidatesScored).toBe(4000);
    expect(resolveAutoCandidates({ kind: 'auto', candidates: 1, autoDnsLabels: 30, autoCandidates: 4 }, 40)).toBe(4);
    expect(resolveAutoCandidates({ kind: 'auto', candidates: 1, autoDnsLabels: 100, autoCandidates: 4 }, 40)).toBe(1);
    const above = twins(config, sampler('auto', { autoDnsLabels: 10, autoLabels: 30, maxSampled: 10 })).kernel;
    above.sampleNegatives(3, 0, 1000);
    // WARP scores until a violator: at a fresh model's near-zero scores the first draw violates, about one per draw, not 4
    expect(above.counters().candidatesScored).toBeGreaterThan(0);
    expect(above.counters().candidatesScored).toBeLessThan(2000);
    expect(resolveAutoSampler('auto', 40, 30)).toBe('warp');
  });
});
