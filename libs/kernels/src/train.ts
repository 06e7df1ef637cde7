import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SkipGramModel, TokenCorpus } from '@freshet/core';
import { SgnsKernel, type SgnsKernelShare } from './sgns-kernel.js';

export interface WasmTrainOptions {
  epochs: number;
  lr: number;
  minLr: number;
  threads: number;
  seed: number;
  sampler: 'popularity' | 'adaptive';
  alpha: number;
  lambdaFraction: number;
  mixShare: number;
  refreshEvery: number;
  /** adaptive: refresh the rank tables on a thread of their own */
  asyncRefresh?: boolean;
  /** adaptive: rank only the most frequent words (0: all) */
  head?: number;
  /** sentences per call into WebAssembly (about 100 keeps V8 in its optimising tier) */
  chunkSentences?: number;
  onProgress?: (wordsDone: number, totalWords: number) => void;
}

export interface WasmTrainResult {
  seconds: number;
  pairs: number;
  loss: number;
  draws: number;
  fallbacks: number;
  mixed: number;
  refreshes: number;
  refreshSeconds: number;
}

/** The per-thread loop, shared by the main thread (thread 0) and the workers: word2vec's linear decay over every thread's words. */
export function runShare(
  kernel: SgnsKernel,
  range: { first: number; end: number },
  opts: { epochs: number; lr: number; minLr: number; chunk: number; totalWords: number; wordsDone: Int32Array },
  onChunk?: (done: number) => void,
): void {
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let s = range.first; s < range.end; ) {
      const done = Atomics.load(opts.wordsDone, 0);
      const lr = Math.max(opts.minLr, opts.lr * (1 - done / opts.totalWords));
      const r = kernel.train(0, s, Math.min(range.end, s + opts.chunk), lr);
      s = r.next;
      Atomics.add(opts.wordsDone, 0, r.words);
      onChunk?.(done + r.words);
    }
  }
}

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/train\.ts$/, '/dist/worker.js') : here.replace(/train\.js$/, 'worker.js');
}

export interface WorkerInit {
  share: SgnsKernelShare;
  thread: number;
  seed: number;
  first: number;
  end: number;
  epochs: number;
  lr: number;
  minLr: number;
  chunk: number;
  totalWords: number;
  wordsDone: Int32Array;
}

export interface WorkerResult {
  error?: string;
  pairs: number;
  draws: number;
  fallbacks: number;
  mixed: number;
  lossSum: number;
}

/**
 * Trains `model` on `corpus` with the WebAssembly kernel (the model's vectors are copied in,
 * trained, and copied back). Thread 0 is the calling thread, which also keeps the adaptive rank
 * tables fresh (inline, or through the refresher thread); with threads > 1 the others are
 * workers sharing one memory, Hogwild style.
 */
export async function trainSkipGramWasm(model: SkipGramModel, corpus: TokenCorpus, opts: WasmTrainOptions): Promise<WasmTrainResult> {
  const sentences = corpus.starts.length - 1;
  let maxSentence = 1;
  for (let s = 0; s < sentences; s++) maxSentence = Math.max(maxSentence, corpus.starts[s + 1] - corpus.starts[s]);
  const words = model.vocab.size;
  const kernel = SgnsKernel.create(
    {
      dim: model.config.dim,
      vocabCap: Math.max(1, words),
      window: model.config.window,
      negatives: model.config.negatives,
      sample: model.config.sample,
      alpha: opts.alpha,
      sampler: opts.sampler,
      lambdaFraction: opts.lambdaFraction,
      mixShare: opts.mixShare,
      refreshEvery: opts.refreshEvery,
      asyncRefresh: opts.asyncRefresh ?? false,
      head: opts.head ?? 0,
      slots: 1,
      slotTokens: corpus.ids.length,
      slotSentences: sentences,
      maxSentence,
      threads: opts.threads,
    },
    opts.seed,
  );
  kernel.writeVectors('input', model.input.data, words);
  kernel.writeVectors('output', model.output.data, words);
  kernel.setVocabSize(words);
  kernel.rebuildCounts(model.vocab.counts);
  const slot = kernel.slot(0);
  slot.ids.set(corpus.ids);
  slot.starts.set(corpus.starts);
  if (opts.sampler === 'adaptive') kernel.refreshTables();
  const totalWords = corpus.ids.length * opts.epochs;
  const wordsDone = new Int32Array(new SharedArrayBuffer(4));
  const chunk = opts.chunkSentences ?? 100;
  const threads = Math.max(1, opts.threads);
  kernel.refreshDivisor = threads;
  const range = (t: number): { first: number; end: number } => ({ first: Math.floor((sentences * t) / threads), end: Math.floor((sentences * (t + 1)) / threads) });
  const t0 = performance.now();
  const workers = Array.from({ length: threads - 1 }, (_, i) => {
    const t = i + 1;
    const init: WorkerInit = { share: kernel.share(), thread: t, seed: opts.seed + 7919 * t, ...range(t), epochs: opts.epochs, lr: opts.lr, minLr: opts.minLr, chunk, totalWords, wordsDone };
    const worker = new Worker(workerPath(), { workerData: init });
    return new Promise<WorkerResult>((resolve, reject) => {
      worker.once('message', (m: WorkerResult) => {
        void worker.terminate();
        if (m.error) reject(new Error(`skip-gram worker failed: ${m.error}`));
        else resolve(m);
      });
      worker.once('error', reject);
    });
  });
  let lastReport = 0;
  runShare(kernel, range(0), { epochs: opts.epochs, lr: opts.lr, minLr: opts.minLr, chunk, totalWords, wordsDone }, (done) => {
    if (done - lastReport > 100_000) {
      lastReport = done;
      opts.onProgress?.(done, totalWords);
    }
  });
  const others = await Promise.all(workers);
  const seconds = (performance.now() - t0) / 1000;
  opts.onProgress?.(totalWords, totalWords);
  kernel.readVectors('input', model.input.data, words);
  kernel.readVectors('output', model.output.data, words);
  const main = kernel.counters();
  const sum = (pick: (r: WorkerResult) => number): number => others.reduce((s, r) => s + pick(r), 0);
  const pairs = main.pairs + sum((r) => r.pairs);
  const result: WasmTrainResult = {
    seconds,
    pairs,
    loss: pairs > 0 ? (main.lossSum + sum((r) => r.lossSum)) / pairs : 0,
    draws: main.draws + sum((r) => r.draws),
    fallbacks: main.fallbacks + sum((r) => r.fallbacks),
    mixed: main.mixed + sum((r) => r.mixed),
    refreshes: kernel.refreshes,
    refreshSeconds: kernel.refreshSeconds,
  };
  await kernel.close();
  return result;
}
