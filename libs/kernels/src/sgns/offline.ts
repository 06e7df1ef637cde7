import type { SkipGramModel, TokenCorpus } from '@freshet/core';
import { WorkerPool } from '../threads/pool.js';
import { trainEpochsShare, type EpochsShare } from './epochs.js';
import { SgnsKernel } from './kernel.js';
import type { SgnsSamplerName } from './spec.js';

export interface WasmTrainOptions {
  epochs: number;
  lr: number;
  minLr: number;
  threads: number;
  seed: number;
  sampler: SgnsSamplerName;
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

/**
 * Trains `model` on `corpus` with the WebAssembly kernel (the model's vectors are copied in,
 * trained, and copied back). Thread 0 is the calling thread, which also keeps the adaptive rank
 * tables fresh (inline, or through the refresher thread); with threads > 1 the others are the
 * pool's workers sharing one memory, Hogwild style, each on its range of sentences.
 */
export async function trainSkipGramWasm(model: SkipGramModel, corpus: TokenCorpus, opts: WasmTrainOptions): Promise<WasmTrainResult> {
  const sentences = corpus.starts.length - 1;
  let maxSentence = 1;
  for (let s = 0; s < sentences; s++) maxSentence = Math.max(maxSentence, corpus.starts[s + 1] - corpus.starts[s]);
  const words = model.vocab.size;
  const threads = Math.max(1, opts.threads);
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
      threads,
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
  kernel.shareCadence(threads);
  const share = (t: number): EpochsShare => ({
    first: Math.floor((sentences * t) / threads),
    end: Math.floor((sentences * (t + 1)) / threads),
    epochs: opts.epochs,
    lr: opts.lr,
    minLr: opts.minLr,
    chunk: opts.chunkSentences ?? 100,
    totalWords,
    wordsDone,
  });
  const pool = new WorkerPool({ shares: { sgns: kernel.share() }, workers: threads - 1, trainingThreads: threads, seed: opts.seed });
  const t0 = performance.now();
  try {
    const others = Array.from({ length: pool.size }, (_, i) => pool.run(i, { kernel: 'sgns', work: { type: 'epochs', ...share(pool.kernelThread(i)) } }));
    let lastReport = 0;
    trainEpochsShare(kernel, share(0), (done) => {
      if (done - lastReport > 100_000) {
        lastReport = done;
        opts.onProgress?.(done, totalWords);
      }
    });
    await Promise.all(others);
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  opts.onProgress?.(totalWords, totalWords);
  kernel.readVectors('input', model.input.data, words);
  kernel.readVectors('output', model.output.data, words);
  const main = kernel.counters();
  const rest = pool.counters('sgns');
  const pairs = main.pairs + (rest?.pairs ?? 0);
  const result: WasmTrainResult = {
    seconds,
    pairs,
    loss: pairs > 0 ? (main.lossSum + (rest?.lossSum ?? 0)) / pairs : 0,
    draws: main.draws + (rest?.draws ?? 0),
    fallbacks: main.fallbacks + (rest?.fallbacks ?? 0),
    mixed: main.mixed + (rest?.mixed ?? 0),
    refreshes: kernel.refreshes,
    refreshSeconds: kernel.refreshSeconds,
  };
  await kernel.close();
  return result;
}
