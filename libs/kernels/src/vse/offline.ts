import {
  ImageLabelModel,
  Rng,
  createSampler,
  defaultSamplerConfig,
  isSamplerKind,
  observeAll,
  trainImageLabelSteps,
  type ImageLabelConfig,
  type LabelBlockScorer,
  type LabeledImage,
  type NegativeSampler,
  type PairSet,
} from '@freshet/core';
import { WorkerPool, sumRecords } from '../threads/pool.js';
import { VseKernel } from './kernel.js';
import { SCORE_BLOCK } from './layout.js';
import { resolveAutoCandidates, resolveAutoSampler, type VseCounters, type VseSamplerSpec } from './spec.js';

export type Engine = 'wasm' | 'js';

export interface ImageLabelFitterOptions {
  config: ImageLabelConfig;
  sampler: VseSamplerSpec;
  lr: number;
  /** wasm: the SIMD kernel (threads >= 1, Hogwild above 1); js: the TypeScript reference, one thread */
  engine: Engine;
  threads: number;
  seed: number;
}

/**
 * Offline image-label training on a fixed set of labelled images: the model, its pairs, and steps
 * on pairs drawn uniformly from them, by the WebAssembly kernel (one thread, or Hogwild workers
 * sharing its memory) or by the TypeScript reference. Callers evaluate between train() calls.
 */
export class ImageLabelFitter {
  private constructor(
    readonly model: ImageLabelModel,
    readonly pairs: PairSet,
    private readonly lr: number,
    private readonly engine: { kernel: VseKernel; pool: WorkerPool | null } | { sampler: NegativeSampler; rng: Rng },
  ) {}

  /**
   * Builds the model over `train` (and names from `alsoLabels`, e.g. held-out labels that need a
   * vector to be ranked). The rng stream is the same for both engines up to the sampler's.
   */
  static async create(train: readonly LabeledImage[], alsoLabels: readonly string[], opts: ImageLabelFitterOptions): Promise<ImageLabelFitter> {
    const rng = new Rng(opts.seed);
    const initRng = rng.fork();
    if (opts.engine === 'js') {
      if (opts.threads !== 1) throw new Error('the js engine (the TypeScript reference) runs one thread; use --engine wasm for threads');
      const model = new ImageLabelModel(opts.config, initRng);
      const pairs = observeAll(model, train);
      for (const name of alsoLabels) model.labelId(name);
      const s = opts.sampler;
      // auto: the kernel switches by the label count; offline the count is known up front
      const kind = resolveAutoSampler(s.kind, model.labels.size, s.autoLabels);
      // a sampler added to the kernel alone has no TypeScript twin
      if (!isSamplerKind(kind)) throw new Error(`the TypeScript reference has no ${kind} sampler (the kernel's alone): use --engine wasm`);
      const sampler = createSampler(
        {
          ...defaultSamplerConfig,
          kind,
          candidates: resolveAutoCandidates(s, model.labels.size),
          maxSampled: s.maxSampled,
          lambdaFraction: s.lambdaFraction,
          ...(s.lambda !== undefined ? { lambda: s.lambda } : {}),
          ...(s.refreshEvery !== undefined ? { refreshEvery: s.refreshEvery } : {}),
          mixShare: s.mixShare,
          maxRetries: s.maxRetries,
          fallback: 'uniform',
          // the kernel's popularity draws labels in proportion to their pairs: exponent 1 on the counts
          ...(kind === 'popularity' ? { alpha: 1 } : {}),
        },
        model.labelVectors,
        () => model.labels.counts,
        rng.fork(),
      );
      return new ImageLabelFitter(model, pairs, opts.lr, { sampler, rng: rng.fork() });
    }
    const names = countNames(train, alsoLabels);
    const pairCount = train.reduce((s, i) => s + i.labels.length, 0);
    const config = { ...opts.config, imageCap: Math.max(1, names.images), labelCap: Math.max(2, names.labels) };
    const kernel = VseKernel.create(
      { config, pairCapacity: Math.max(1, pairCount), positiveSlots: 4 * names.images + 2 * pairCount, sampler: opts.sampler, threads: opts.threads },
      rng.fork().nextU32(),
    );
    const model = new ImageLabelModel(config, initRng, kernel.storage);
    const pairs = observeAll(model, train);
    for (const name of alsoLabels) model.labelId(name);
    kernel.setSizes(model.labels.size, model.images.size);
    kernel.setPairs(pairs);
    let pool: WorkerPool | null = null;
    if (opts.threads > 1) {
      kernel.shareCadence(opts.threads);
      pool = new WorkerPool({ shares: { vse: kernel.share() }, workers: opts.threads - 1, trainingThreads: opts.threads, seed: opts.seed });
    }
    return new ImageLabelFitter(model, pairs, opts.lr, { kernel, pool });
  }

  /** `steps` SGD steps (split over the threads with Hogwild). */
  async train(steps: number): Promise<void> {
    const e = this.engine;
    if ('sampler' in e) trainImageLabelSteps(this.model, this.pairs, e.sampler, steps, this.lr, e.rng);
    else if (e.pool === null) e.kernel.trainRandom(steps, this.lr);
    else {
      // Hogwild: an even share per worker, the rest on this thread (which also refreshes the rank tables)
      const pool = e.pool;
      const share = Math.ceil(steps / (pool.size + 1));
      const others = Array.from({ length: pool.size }, (_, i) => pool.run(i, { kernel: 'vse', work: { random: { steps: share, lr: this.lr } } }));
      e.kernel.trainRandom(steps - share * pool.size, this.lr);
      await Promise.all(others);
    }
  }

  /** The kernel (wasm engine), for benchmarks that drive it directly; null for the js engine. */
  get kernel(): VseKernel | null {
    return 'sampler' in this.engine ? null : this.engine.kernel;
  }

  /** The fastest way to score every label for an image: the kernel's SIMD loop, or undefined (the reference scores itself). */
  scorer(): ((image: number, into: Float32Array) => void) | undefined {
    const e = this.engine;
    if ('sampler' in e) return undefined;
    const one = new Int32Array(1);
    return (image, into) => {
      one[0] = image;
      into.set(e.kernel.scoreLabels(one));
    };
  }

  /** Scores every label for a block of images in one pass over the label rows (full-ranking evaluation); undefined on the js engine. */
  blockScorer(): LabelBlockScorer | undefined {
    const e = this.engine;
    if ('sampler' in e) return undefined;
    return { block: SCORE_BLOCK, score: (images, into) => into.set(e.kernel.scoreLabels(images)) };
  }

  /** Steps, updates and sampler counters so far, every thread together. */
  counters(): VseCounters {
    const e = this.engine;
    if ('sampler' in e) return { ...e.sampler.stats, steps: e.sampler.stats.draws, updates: 0, lossSum: 0 };
    const main = e.kernel.counters();
    return sumRecords([main, e.pool?.counters('vse')]) ?? main;
  }

  async close(): Promise<void> {
    const e = this.engine;
    if ('sampler' in e) return;
    await e.pool?.close();
    await e.kernel.close();
  }
}

function countNames(train: readonly LabeledImage[], alsoLabels: readonly string[]): { images: number; labels: number } {
  const images = new Set<string>();
  const labels = new Set<string>(alsoLabels);
  for (const i of train) {
    images.add(i.id);
    for (const l of i.labels) labels.add(l);
  }
  return { images: images.size, labels: labels.size };
}
