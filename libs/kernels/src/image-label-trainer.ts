import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import {
  ImageLabelModel,
  Rng,
  createSampler,
  defaultSamplerConfig,
  emptyStats,
  observeAll,
  trainImageLabelSteps,
  type ImageLabelConfig,
  type LabeledImage,
  type NegativeSampler,
  type PairSet,
} from '@freshet/core';
import { AUTO_SAMPLER_LABELS, VseKernel, type VseCounters, type VseSamplerSpec, type VseShare } from './vse-kernel.js';

export type Engine = 'wasm' | 'js';

export interface ImageLabelTrainerOptions {
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
export class ImageLabelTrainer {
  private constructor(
    readonly model: ImageLabelModel,
    readonly pairs: PairSet,
    private readonly lr: number,
    private readonly engine: { kernel: VseKernel; pool: VsePool | null } | { sampler: NegativeSampler; rng: Rng },
  ) {}

  /**
   * Builds the model over `train` (and names from `alsoLabels`, e.g. held-out labels that need a
   * vector to be ranked). The rng stream is the same for both engines up to the sampler's.
   */
  static async create(train: readonly LabeledImage[], alsoLabels: readonly string[], opts: ImageLabelTrainerOptions): Promise<ImageLabelTrainer> {
    const rng = new Rng(opts.seed);
    const initRng = rng.fork();
    if (opts.engine === 'js') {
      if (opts.threads !== 1) throw new Error('the js engine (the TypeScript reference) runs one thread; use --engine wasm for threads');
      const model = new ImageLabelModel(opts.config, initRng);
      const pairs = observeAll(model, train);
      for (const name of alsoLabels) model.labelId(name);
      const s = opts.sampler;
      // auto: the kernel switches by the label count; offline the count is known up front
      const kind = s.kind === 'auto' ? (model.labels.size >= (s.autoLabels ?? AUTO_SAMPLER_LABELS) ? 'warp' : 'uniform') : s.kind;
      const sampler = createSampler(
        {
          ...defaultSamplerConfig,
          kind,
          candidates: s.candidates,
          maxSampled: s.maxSampled,
          lambdaFraction: s.lambdaFraction,
          ...(s.lambda !== undefined ? { lambda: s.lambda } : {}),
          ...(s.refreshEvery !== undefined ? { refreshEvery: s.refreshEvery } : {}),
          mixShare: s.mixShare,
          maxRetries: s.maxRetries,
          fallback: 'uniform',
        },
        model.labelVectors,
        () => model.labels.counts,
        rng.fork(),
      );
      return new ImageLabelTrainer(model, pairs, opts.lr, { sampler, rng: rng.fork() });
    }
    const names = countNames(train, alsoLabels);
    const pairCount = train.reduce((s, i) => s + i.labels.length, 0);
    const config = { ...opts.config, imageCap: Math.max(1, names.images), labelCap: Math.max(2, names.labels) };
    const kernel = VseKernel.create({ config, pairCapacity: Math.max(1, pairCount), positiveSlots: 4 * names.images + 2 * pairCount, sampler: opts.sampler, threads: opts.threads }, rng.fork().nextU32());
    const model = new ImageLabelModel(config, initRng, kernel.storage);
    const pairs = observeAll(model, train);
    for (const name of alsoLabels) model.labelId(name);
    kernel.setSizes(model.labels.size, model.images.size);
    kernel.setPairs(pairs);
    const pool = opts.threads > 1 ? await VsePool.start(kernel, opts.threads, opts.seed) : null;
    return new ImageLabelTrainer(model, pairs, opts.lr, { kernel, pool });
  }

  /** `steps` SGD steps (split over the threads with Hogwild). */
  async train(steps: number): Promise<void> {
    const e = this.engine;
    if ('sampler' in e) trainImageLabelSteps(this.model, this.pairs, e.sampler, steps, this.lr, e.rng);
    else if (e.pool !== null) await e.pool.train(steps, this.lr);
    else e.kernel.trainRandom(steps, this.lr);
  }

  /** The kernel (wasm engine), for benchmarks that drive it directly; null for the js engine. */
  get kernel(): VseKernel | null {
    return 'sampler' in this.engine ? null : this.engine.kernel;
  }

  /** The fastest way to score every label for an image: the kernel's SIMD loop, or undefined (the reference scores itself). */
  scorer(): ((image: number, into: Float32Array) => void) | undefined {
    const e = this.engine;
    if ('sampler' in e) return undefined;
    return (image, into) => into.set(e.kernel.scoreLabels(image));
  }

  /** Steps, updates and sampler counters so far, every thread together. */
  counters(): VseCounters {
    const e = this.engine;
    if ('sampler' in e) return { ...e.sampler.stats, steps: e.sampler.stats.draws, updates: 0, lossSum: 0 };
    const main = e.kernel.counters();
    return e.pool === null ? main : addCounters(main, e.pool.latest());
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

export function addCounters(a: VseCounters, b: VseCounters): VseCounters {
  const out = { ...a };
  for (const key of Object.keys(out) as Array<keyof VseCounters>) out[key] += b[key];
  return out;
}

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/image-label-trainer\.ts$/, '/dist/vse-worker.js') : here.replace(/image-label-trainer\.js$/, 'vse-worker.js');
}

export interface VseWorkerInit {
  share: VseShare;
  thread: number;
  threads: number;
  seed: number;
}

export type VseWorkerCommand = { type: 'train'; steps: number; lr: number } | { type: 'stop' };
export type VseWorkerReply = { type: 'trained'; counters: VseCounters } | { type: 'error'; message: string };

/**
 * Hogwild over the kernel's shared memory: worker threads 1..T-1 each run their own kernel
 * instance, and the main thread's kernel (thread 0) trains its share and refreshes the rank
 * tables. Each train() splits the steps evenly and waits for all.
 */
class VsePool {
  private counts: VseCounters[];

  private constructor(
    private readonly kernel: VseKernel,
    private readonly workers: Worker[],
  ) {
    this.counts = workers.map(() => ({ ...emptyStats(), steps: 0, updates: 0, lossSum: 0 }));
  }

  static async start(kernel: VseKernel, threads: number, seed: number): Promise<VsePool> {
    kernel.refreshDivisor = threads;
    const workers = Array.from({ length: threads - 1 }, (_, t) => new Worker(workerPath(), { workerData: { share: kernel.share(), thread: t + 1, threads, seed: seed + 7919 * (t + 1) } satisfies VseWorkerInit }));
    return new VsePool(kernel, workers);
  }

  async train(steps: number, lr: number): Promise<void> {
    const share = Math.ceil(steps / (this.workers.length + 1));
    const replies = this.workers.map((w) => reply(w));
    for (const w of this.workers) w.postMessage({ type: 'train', steps: share, lr } satisfies VseWorkerCommand);
    this.kernel.trainRandom(steps - share * this.workers.length, lr);
    this.counts = await Promise.all(replies);
  }

  latest(): VseCounters {
    return this.counts.reduce((acc, c) => addCounters(acc, c), { ...emptyStats(), steps: 0, updates: 0, lossSum: 0 });
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.postMessage({ type: 'stop' } satisfies VseWorkerCommand);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function reply(worker: Worker): Promise<VseCounters> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: VseWorkerReply): void => {
      cleanup();
      if (m.type === 'error') reject(new Error(`image-label worker failed: ${m.message}`));
      else resolve(m.counters);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}
