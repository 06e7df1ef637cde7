import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SkipGramModel, TokenCorpus } from '@freshet/core';
import { SgnsKernel, type SgnsKernelShare, type SgnsKernelSpec } from './sgns-kernel.js';

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

/** The per-thread loop, shared by the main thread (1 thread) and the workers. */
export function runShare(
  kernel: SgnsKernel,
  range: { first: number; end: number },
  opts: { epochs: number; lr: number; minLr: number; chunk: number; totalWords: number; wordsDone: Int32Array; refresher: boolean },
  onChunk?: (done: number) => void,
): void {
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let s = range.first; s < range.end; ) {
      const done = Atomics.load(opts.wordsDone, 0);
      const lr = Math.max(opts.minLr, opts.lr * (1 - done / opts.totalWords));
      const r = kernel.train(s, Math.min(range.end, s + opts.chunk), lr);
      s = r.next;
      Atomics.add(opts.wordsDone, 0, r.words);
      if (opts.refresher && kernel.refreshDue) kernel.refreshTables();
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
  refreshShare: number;
}

/**
 * Trains `model` on `corpus` with the WebAssembly kernel (the model's vectors are copied in,
 * trained, and copied back). With threads > 1 the workers share one memory, Hogwild style; the
 * first one also refreshes the adaptive rank tables in place (readers see a briefly stale order,
 * never an invalid id).
 */
export async function trainSkipGramWasm(model: SkipGramModel, corpus: TokenCorpus, opts: WasmTrainOptions): Promise<WasmTrainResult> {
  const sentences = corpus.starts.length - 1;
  let maxSentence = 1;
  for (let s = 0; s < sentences; s++) maxSentence = Math.max(maxSentence, corpus.starts[s + 1] - corpus.starts[s]);
  const spec: SgnsKernelSpec = {
    dim: model.config.dim,
    vocabSize: model.vocab.size,
    window: model.config.window,
    negatives: model.config.negatives,
    sample: model.config.sample,
    alpha: opts.alpha,
    sampler: opts.sampler,
    lambdaFraction: opts.lambdaFraction,
    mixShare: opts.mixShare,
    refreshEvery: opts.refreshEvery,
    corpusLength: corpus.ids.length,
    sentences,
    maxSentence,
    threads: opts.threads,
  };
  const kernel = SgnsKernel.create(
    spec,
    { ids: corpus.ids, starts: corpus.starts, counts: model.vocab.counts, input: model.input.data, output: model.output.data },
    opts.seed,
  );
  const totalWords = corpus.ids.length * opts.epochs;
  const wordsDone = new Int32Array(new SharedArrayBuffer(4));
  const chunk = opts.chunkSentences ?? 100;
  const t0 = performance.now();
  let extra = { pairs: 0, draws: 0, fallbacks: 0, mixed: 0, lossSum: 0 };
  if (opts.threads <= 1) {
    let lastReport = 0;
    runShare(kernel, { first: 0, end: sentences }, { epochs: opts.epochs, lr: opts.lr, minLr: opts.minLr, chunk, totalWords, wordsDone, refresher: true }, (done) => {
      if (done - lastReport > 100_000) {
        lastReport = done;
        opts.onProgress?.(done, totalWords);
      }
    });
  } else {
    const replies = Array.from({ length: opts.threads }, (_, t) => {
      const init: WorkerInit = {
        share: kernel.share(),
        thread: t,
        seed: opts.seed + 7919 * (t + 1),
        first: Math.floor((sentences * t) / opts.threads),
        end: Math.floor((sentences * (t + 1)) / opts.threads),
        epochs: opts.epochs,
        lr: opts.lr,
        minLr: opts.minLr,
        chunk,
        totalWords,
        wordsDone,
        refreshShare: opts.threads,
      };
      const worker = new Worker(workerPath(), { workerData: init });
      return new Promise<{ pairs: number; draws: number; fallbacks: number; mixed: number; lossSum: number; refreshes: number; refreshSeconds: number }>((resolve, reject) => {
        worker.once('message', (m: { error?: string; pairs: number; draws: number; fallbacks: number; mixed: number; lossSum: number; refreshes: number; refreshSeconds: number }) => {
          void worker.terminate();
          if (m.error) reject(new Error(`skip-gram worker failed: ${m.error}`));
          else resolve(m);
        });
        worker.once('error', reject);
      });
    });
    for (const r of await Promise.all(replies)) {
      extra = { pairs: extra.pairs + r.pairs, draws: extra.draws + r.draws, fallbacks: extra.fallbacks + r.fallbacks, mixed: extra.mixed + r.mixed, lossSum: extra.lossSum + r.lossSum };
      kernel.refreshes += r.refreshes;
      kernel.refreshSeconds += r.refreshSeconds;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  opts.onProgress?.(totalWords, totalWords);
  kernel.readVectors('input', model.input.data);
  kernel.readVectors('output', model.output.data);
  const c = kernel.counters();
  const pairs = c.pairs + extra.pairs;
  return {
    seconds,
    pairs,
    loss: pairs > 0 ? (c.loss * c.pairs + extra.lossSum) / pairs : 0,
    draws: c.draws + extra.draws,
    fallbacks: c.fallbacks + extra.fallbacks,
    mixed: c.mixed + extra.mixed,
    refreshes: kernel.refreshes,
    refreshSeconds: kernel.refreshSeconds,
  };
}
