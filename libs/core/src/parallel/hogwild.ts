import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { ImageLabelModel } from '../models/image-label.js';
import type { PairSet } from '../models/image-label-training.js';
import type { SkipGramModel } from '../models/skip-gram.js';
import type { TokenCorpus } from '../models/skip-gram-training.js';
import type { SamplerConfig } from '../samplers/factory.js';
import { emptyStats, type SamplerStats } from '../samplers/sampler.js';
import type { ImageLabelJob, SkipGramJob, WorkerCommand, WorkerJob, WorkerReply } from './jobs.js';

/**
 * The compiled worker script. Under the test runner this module is TypeScript source, which a
 * worker thread cannot load, so the path is mapped to the build output (npm test builds first).
 */
function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/parallel\/hogwild\.ts$/, '/dist/parallel/worker.js') : here.replace(/hogwild\.js$/, 'worker.js');
}

function spawn(job: WorkerJob): Worker {
  return new Worker(workerPath(), { workerData: job });
}

function nextReply(worker: Worker): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerReply): void => {
      cleanup();
      if (m.type === 'error') reject(new Error(`hogwild worker failed: ${m.message}`));
      else resolve(m);
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

export function addStats(into: SamplerStats, s: SamplerStats): SamplerStats {
  for (const key of Object.keys(into) as Array<keyof SamplerStats>) into[key] += s[key];
  return into;
}

/**
 * Image-label training on N worker threads over one shared model. The main thread keeps the
 * vocabularies and evaluates between slices; each slice splits its steps over the workers.
 * The model must have been created with shared storage and fully observed (no growth while the
 * pool runs).
 */
export class ImageLabelPool {
  private constructor(
    private readonly workers: Worker[],
    private readonly latest: SamplerStats[],
  ) {}

  static start(model: ImageLabelModel, pairs: PairSet, sampler: SamplerConfig, lr: number, threads: number, seed: number): ImageLabelPool {
    const u = model.imageVectors.data;
    const v = model.labelVectors.data;
    if (!(u.buffer instanceof SharedArrayBuffer) || !(v.buffer instanceof SharedArrayBuffer)) {
      throw new Error('hogwild: create the model with shared storage');
    }
    const n = model.images.size;
    const starts = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + model.positivesOf(i).length;
    const flat = new Int32Array(starts[n]);
    for (let i = 0; i < n; i++) flat.set(model.positivesOf(i), starts[i]);
    const workers: Worker[] = [];
    for (let t = 0; t < threads; t++) {
      const job: ImageLabelJob = {
        kind: 'image-label',
        config: model.config,
        imageData: u,
        labelData: v,
        imageRows: model.imageVectors.rows,
        labelRows: model.labelVectors.rows,
        positivesFlat: flat,
        positivesStart: starts,
        pairImages: pairs.images,
        pairLabels: pairs.labels,
        labelCounts: Float64Array.from(model.labels.counts),
        sampler: { ...sampler, autoRefresh: true },
        lr,
        seed: seed + 7919 * (t + 1),
      };
      workers.push(spawn(job));
    }
    return new ImageLabelPool(workers, workers.map(() => emptyStats()));
  }

  /** Trains `steps` steps in total, split evenly over the workers. */
  async train(steps: number): Promise<{ steps: number; updates: number; lossSum: number }> {
    const per = Math.ceil(steps / this.workers.length);
    const replies = this.workers.map((w) => {
      const r = nextReply(w);
      w.postMessage({ type: 'train', steps: per } satisfies WorkerCommand);
      return r;
    });
    let updates = 0;
    let lossSum = 0;
    const done = await Promise.all(replies);
    done.forEach((r, i) => {
      if (r.type !== 'trained') throw new Error(`hogwild: unexpected reply ${r.type}`);
      updates += r.updates;
      lossSum += r.lossSum;
      this.latest[i] = r.stats;
    });
    return { steps: per * this.workers.length, updates, lossSum };
  }

  stats(): SamplerStats {
    return this.latest.reduce((acc, s) => addStats(acc, s), emptyStats());
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Skip-gram on N worker threads over one shared model: each worker takes a contiguous share of
 * the sentences for every epoch; the learning rate decays linearly over the words all workers
 * have done together (a shared atomic counter), as in word2vec's threads.
 */
export async function trainSkipGramHogwild(
  model: SkipGramModel,
  corpus: TokenCorpus,
  sampler: SamplerConfig,
  opts: { threads: number; epochs: number; lr: number; minLr: number; seed: number },
): Promise<{ pairs: number; loss: number; seconds: number; stats: SamplerStats }> {
  const sentences = corpus.starts.length - 1;
  const wordsDone = new Int32Array(new SharedArrayBuffer(4));
  const totalWords = corpus.ids.length * opts.epochs;
  const share = <T extends Int32Array>(a: T): Int32Array => {
    const s = new Int32Array(new SharedArrayBuffer(a.byteLength));
    s.set(a);
    return s;
  };
  const ids = share(corpus.ids);
  const starts = share(corpus.starts);
  const counts = Float64Array.from(model.vocab.counts);
  const t0 = performance.now();
  const runs = Array.from({ length: opts.threads }, (_, t) => {
    const job: SkipGramJob = {
      kind: 'skip-gram',
      config: model.config,
      inputData: model.input.data,
      outputData: model.output.data,
      rows: model.input.rows,
      counts,
      ids,
      starts,
      firstSentence: Math.floor((sentences * t) / opts.threads),
      endSentence: Math.floor((sentences * (t + 1)) / opts.threads),
      epochs: opts.epochs,
      lr: opts.lr,
      minLr: opts.minLr,
      sampler,
      seed: opts.seed + 7919 * (t + 1),
      wordsDone,
      totalWords,
    };
    const worker = spawn(job);
    return nextReply(worker).finally(() => void worker.terminate());
  });
  const replies = await Promise.all(runs);
  let pairs = 0;
  let lossWeighted = 0;
  const stats = emptyStats();
  for (const r of replies) {
    if (r.type !== 'finished') throw new Error(`hogwild: unexpected reply ${r.type}`);
    pairs += r.pairs;
    lossWeighted += r.loss * r.pairs;
    addStats(stats, r.stats);
  }
  return { pairs, loss: pairs > 0 ? lossWeighted / pairs : 0, seconds: (performance.now() - t0) / 1000, stats };
}
