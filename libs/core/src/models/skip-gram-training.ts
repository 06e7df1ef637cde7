import { learningRate, type ScheduleConfig } from '../schedule.js';
import type { Rng } from '../math/rng.js';
import type { NegativeSampler } from '../samplers/sampler.js';
import { SkipGramSentenceLoop, keepProbabilities, type SkipGramModel } from './skip-gram.js';

export interface TokenCorpus {
  ids: Int32Array;
  /** sentence s spans ids[starts[s] .. starts[s+1]) */
  starts: Int32Array;
}

export interface EpochOptions {
  epochs: number;
  /** linear decay over all epochs (word2vec, gensim) unless a schedule is given */
  lr: number;
  minLr: number;
  schedule?: ScheduleConfig;
  /** called every ~50k words with words done so far */
  onProgress?: (wordsDone: number, totalWords: number, trainer: SkipGramSentenceLoop) => void;
  /** sentence range (for Hogwild workers); all sentences by default */
  firstSentence?: number;
  endSentence?: number;
  /** words already done by others (workers share one linear schedule) */
  globalWordsDone?: () => number;
  globalTotalWords?: number;
  /** word counts for subsampling (default: the model's vocabulary counts) */
  counts?: ArrayLike<number>;
}

/**
 * Offline skip-gram training over an encoded corpus, word2vec style: subsampling with the
 * model's `sample`, the learning rate decaying linearly from lr to minLr over all words of all
 * epochs. Returns pairs trained and seconds spent.
 */
export function trainSkipGramEpochs(
  model: SkipGramModel,
  corpus: TokenCorpus,
  sampler: NegativeSampler,
  rng: Rng,
  opts: EpochOptions,
): { pairs: number; seconds: number; loss: number } {
  const trainer = new SkipGramSentenceLoop(model, sampler, rng);
  const keep = model.config.sample > 0 ? keepProbabilities(opts.counts ?? model.vocab.counts, model.config.sample) : null;
  const first = opts.firstSentence ?? 0;
  const end = opts.endSentence ?? corpus.starts.length - 1;
  const wordsPerEpoch = corpus.starts[end] - corpus.starts[first];
  const total = opts.globalTotalWords ?? wordsPerEpoch * opts.epochs;
  const schedule: ScheduleConfig = opts.schedule ?? { kind: 'linear', lr: opts.lr, minLr: opts.minLr, totalSteps: total };
  const t0 = performance.now();
  let done = 0;
  let sinceReport = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let s = first; s < end; s++) {
      const a = corpus.starts[s];
      const b = corpus.starts[s + 1];
      const progress = opts.globalWordsDone ? opts.globalWordsDone() : done;
      trainer.trainSequence(corpus.ids, a, b, learningRate(schedule, progress), keep);
      done += b - a;
      sinceReport += b - a;
      if (sinceReport >= 50_000) {
        opts.onProgress?.(done, total, trainer);
        sinceReport = 0;
      }
    }
  }
  opts.onProgress?.(done, total, trainer);
  return { pairs: trainer.pairs, seconds: (performance.now() - t0) / 1000, loss: trainer.pairs > 0 ? trainer.lossSum / trainer.pairs : 0 };
}
