import type { AvroCodec } from '@freshet/avro';
import { Rng, SkipGramModel, defaultSkipGramConfig, learningRate, type ScheduleConfig } from '@freshet/core';
import { SgnsKernel, type KernelShares, type WorkerPool } from '@freshet/kernels';
import type { Logger } from '@freshet/runtime';
import type { ConsumedRecord } from '@freshet/transport';
import type { Blob } from '../../trainer/checkpoint.js';
import { RowsSince, appendNames, blobOf, gatherRows, patchRows } from '../../trainer/increments.js';
import { decodeEvents, type AppliedBatch, type ChangedRows, type LearnerState, type ThreadedLearner } from '../../trainer/learner.js';
import { exportSampler, learnerMetrics } from '../../trainer/metrics.js';
import type { LearnerContext, StreamEvent } from '../stream.js';
import type { TextWindowEvent } from './normalise.js';
import type { TextWindowsSettings } from './settings.js';

/** Tokens and windows one thread's corpus slot holds; a bigger batch is trained in rounds. */
const SLOT_TOKENS = 1 << 20;
const SLOT_SENTENCES = 1 << 16;
/** Longest window trained as one sentence; longer ones are split. */
const MAX_SENTENCE = 4096;

/**
 * The text-window stream's learner: windows are encoded to word ids on the main thread (the
 * vocabulary grows with stable ids and a cap), then trained by the WebAssembly skip-gram kernel
 * on the training threads, each thread on its own corpus slot. The popularity and subsampling
 * tables follow the growing counts (rebuilt off the threads and swapped in); the adaptive
 * sampler's rank tables are refreshed on their own thread at the papers' cadence.
 */
export class TextWindowsLearner<E extends StreamEvent = TextWindowEvent> implements ThreadedLearner {
  readonly stream: string;
  readonly topic: string;
  readonly model: SkipGramModel;
  readonly kernel: SgnsKernel;
  private threads: WorkerPool | null = null;
  private readonly codec: AvroCodec<E>;
  private readonly logger: Logger;
  private readonly opts: TextWindowsSettings;
  private readonly schedule: ScheduleConfig;
  private readonly m: ReturnType<typeof learnerMetrics>;
  /** raw tokens seen: the stream schedule's clock */
  private wordSteps = 0;
  private countsBuiltAt = { words: 0, tokens: 0 };
  private newWordsFrom = 0;
  private republish = false;
  private readonly stalenessRng = new Rng(7);
  /** input rows changed since the last checkpoint export, and the words held then (words only grow) */
  private readonly wordsSince = new RowsSince();
  private readonly outputSince = new RowsSince();
  private wordsAtExport = 0;

  constructor(
    ctx: LearnerContext<E, TextWindowsSettings>,
    /** the words of an event, in order (a text window's tokens; another stream may bring its own) */
    private readonly wordsOf: (event: E) => readonly string[],
  ) {
    const opts = ctx.settings;
    this.stream = ctx.stream;
    this.topic = ctx.topic;
    this.codec = ctx.codec;
    this.logger = ctx.logger;
    this.opts = opts;
    this.schedule = { kind: 'floor', lr: opts.lr, floorLr: opts.floorLr, halfLifeSteps: opts.halfLifeSteps };
    const threads = ctx.threads;
    this.kernel = SgnsKernel.create(
      {
        dim: opts.dim,
        vocabCap: opts.vocabCap,
        window: opts.window,
        negatives: opts.negatives,
        sample: opts.sample,
        alpha: opts.alpha,
        sampler: opts.sampler,
        lambdaFraction: opts.lambdaFraction,
        mixShare: opts.mixShare,
        refreshEvery: 0,
        asyncRefresh: true,
        slots: threads + 1,
        slotTokens: SLOT_TOKENS,
        slotSentences: SLOT_SENTENCES,
        maxSentence: MAX_SENTENCE,
        threads: threads + 1,
        trackChanges: true,
      },
      ctx.seed,
    );
    this.model = new SkipGramModel(
      // the adaptive sampler ranks output vectors: all-zero ones give σ = 0 (samplers.md §3)
      {
        ...defaultSkipGramConfig,
        dim: opts.dim,
        window: opts.window,
        negatives: opts.negatives,
        sample: opts.sample,
        vocabCap: opts.vocabCap,
        outputInit: opts.sampler === 'adaptive' ? 'noise' : 'zero',
      },
      new Rng(ctx.seed).fork(),
      { input: this.kernel.input, output: this.kernel.output },
    );
    this.m = learnerMetrics(ctx.metrics, this.stream);
  }

  kernelShares(): KernelShares {
    return { sgns: this.kernel.share() };
  }

  useThreads(threads: WorkerPool): void {
    this.threads = threads;
  }

  async apply(records: readonly ConsumedRecord[]): Promise<AppliedBatch> {
    const windows: Int32Array[] = [];
    let tokens = 0;
    const batch = await decodeEvents(this.codec, records, this.logger, (e) => {
      const words = this.wordsOf(e);
      const ids = new Int32Array(words.length);
      for (let t = 0; t < ids.length; t++) {
        const id = this.model.wordId(words[t]);
        ids[t] = id;
        if (id >= 0) this.model.vocab.increment(id);
      }
      tokens += ids.length;
      for (let at = 0; at < ids.length; at += MAX_SENTENCE) windows.push(ids.subarray(at, Math.min(ids.length, at + MAX_SENTENCE)));
    });
    this.kernel.setVocabSize(this.model.vocab.size);
    this.maybeRebuildCounts();
    const lr = learningRate(this.schedule, this.wordSteps);
    this.wordSteps += tokens;
    await this.train(windows, lr);
    return batch;
  }

  /**
   * Popularity and keep tables follow the counts: rebuilt when the vocabulary grew by 5% or the
   * tokens by 10% since the last build (a rebuild over 500,000 words takes milliseconds).
   */
  private maybeRebuildCounts(): void {
    const words = this.model.vocab.size;
    const built = this.countsBuiltAt;
    if (words === 0) return;
    if (built.words > 0 && words <= built.words * 1.05 && this.wordSteps <= built.tokens * 1.1 + 10_000) return;
    this.kernel.rebuildCounts(this.model.vocab.counts);
    this.countsBuiltAt = { words, tokens: this.wordSteps };
  }

  /** Splits the windows over the threads' corpus slots by tokens, in rounds that fit the slots. */
  private async train(windows: Int32Array[], lr: number): Promise<void> {
    const threads = this.threads;
    if (threads === null) throw new Error('text-windows learner: no training threads');
    const n = threads.size;
    let next = 0;
    while (next < windows.length) {
      const jobs: Array<Promise<void>> = [];
      for (let t = 0; t < n && next < windows.length; t++) {
        const slot = this.kernel.slot(threads.kernelThread(t));
        let tokens = 0;
        let sentences = 0;
        slot.starts[0] = 0;
        // a fair share of what is left, bounded by the slot
        const remaining = windows.length - next;
        const share = Math.ceil(remaining / (n - t));
        while (next < windows.length && sentences < Math.min(share, SLOT_SENTENCES) && tokens + windows[next].length <= SLOT_TOKENS) {
          slot.ids.set(windows[next], tokens);
          tokens += windows[next].length;
          slot.starts[++sentences] = tokens;
          next++;
        }
        if (sentences > 0) jobs.push(threads.run(t, { kernel: 'sgns', work: { type: 'own-slot', sentences, lr } }));
      }
      await Promise.all(jobs);
    }
  }

  drainChanged(): ChangedRows[] {
    const size = this.model.vocab.size;
    const changed = this.kernel.drainChanged(size);
    const ids: number[] = [];
    if (this.republish) for (let i = 0; i < size; i++) ids.push(i);
    else {
      for (const id of changed) if (id < this.newWordsFrom) ids.push(id);
      for (let id = this.newWordsFrom; id < size; id++) ids.push(id);
    }
    this.republish = false;
    this.newWordsFrom = size;
    this.wordsSince.markAll(ids);
    const dim = this.opts.dim;
    const w = this.model.input.cols;
    const src = this.model.input.data;
    const vectors = new Float32Array(ids.length * dim);
    const names = ids.map((id, j) => {
      vectors.set(src.subarray(id * w, id * w + dim), j * dim);
      return this.model.vocab.nameOf(id);
    });
    // the published word vector is the input vector (word2vec's convention)
    return [{ kind: 'WORD', dim, names, vectors, biases: null }];
  }

  markAllChanged(): void {
    this.republish = true;
  }

  exportState(): LearnerState {
    const v = this.model.vocab.size;
    const w = this.model.input.cols;
    const blobs: Record<string, Blob> = {
      wordInput: this.model.input.data.slice(0, v * w),
      wordOutput: this.model.output.data.slice(0, v * w),
      wordCounts: Float64Array.from(this.model.vocab.counts),
    };
    this.wordsSince.clear();
    this.kernel.drainChangedOutput(v);
    this.outputSince.clear();
    this.wordsAtExport = v;
    return { header: { words: this.model.vocab.allNames().slice(), wordSteps: this.wordSteps, width: w, dim: this.opts.dim }, blobs };
  }

  /**
   * The input and output rows that changed (the kernel flags output rows apart: negatives move
   * rows of words the windows never held), and the counts whole.
   */
  exportIncrement(): LearnerState {
    const v = this.model.vocab.size;
    const w = this.model.input.cols;
    const rows = this.wordsSince.take(v);
    this.outputSince.markAll(this.kernel.drainChangedOutput(v));
    // new words' rows are new even where SGD has not moved them yet
    for (let id = this.wordsAtExport; id < v; id++) this.outputSince.mark(id);
    const outputRows = this.outputSince.take(v);
    const blobs: Record<string, Blob> = {
      wordRows: rows,
      wordInput: gatherRows(this.model.input.data, w, rows),
      outputRows,
      wordOutput: gatherRows(this.model.output.data, w, outputRows),
      wordCounts: Float64Array.from(this.model.vocab.counts),
    };
    const header = {
      wordsFrom: this.wordsAtExport,
      words: this.model.vocab.allNames().slice(this.wordsAtExport),
      wordSteps: this.wordSteps,
      width: w,
      dim: this.opts.dim,
    };
    this.wordsAtExport = v;
    return { header, blobs };
  }

  mergeIncrement(base: LearnerState, increment: LearnerState): LearnerState {
    const b = base.header as { words: string[] };
    const h = increment.header as { wordsFrom: number; words: string[]; wordSteps: number; width: number; dim: number };
    const words = appendNames(b.words, h.wordsFrom, h.words, 'words');
    const patched = (rows: string, values: string): Float32Array =>
      patchRows(blobOf<Float32Array>(base, values), h.width, words.length, blobOf<Int32Array>(increment, rows), blobOf<Float32Array>(increment, values));
    return {
      header: { words, wordSteps: h.wordSteps, width: h.width, dim: h.dim },
      blobs: { wordInput: patched('wordRows', 'wordInput'), wordOutput: patched('outputRows', 'wordOutput'), wordCounts: blobOf(increment, 'wordCounts') },
    };
  }

  importState(state: LearnerState): void {
    const h = state.header as { words: string[]; wordSteps: number; width: number; dim: number };
    if (h.dim !== this.opts.dim) {
      throw new Error(
        `the checkpoint's word vectors have dim ${h.dim}; this trainer is configured for ${this.opts.dim}: start it with the checkpoint's settings, or start fresh (freshet reset)`,
      );
    }
    const blob = <T extends Blob>(name: string): T => {
      const b = state.blobs[name];
      if (b === undefined) throw new Error(`checkpoint has no ${name}`);
      return b as T;
    };
    for (const word of h.words) this.model.wordId(word);
    this.model.input.data.set(blob<Float32Array>('wordInput'));
    this.model.output.data.set(blob<Float32Array>('wordOutput'));
    const counts = blob<Float64Array>('wordCounts');
    for (let a = 0; a < counts.length; a++) this.model.vocab.increment(a, counts[a]);
    this.wordSteps = h.wordSteps;
    this.kernel.setVocabSize(this.model.vocab.size);
    this.countsBuiltAt = { words: 0, tokens: 0 };
    this.maybeRebuildCounts();
  }

  exportMetrics(): void {
    this.m.staleness(() => this.kernel.staleness(4, this.stalenessRng));
    const c = this.threads?.counters('sgns') ?? null;
    if (c !== null)
      exportSampler(this.m, this.opts.sampler, {
        updates: c.pairs,
        lossSum: c.lossSum,
        draws: c.draws,
        rejections: 0,
        fallbacks: c.fallbacks,
        mixed: c.mixed,
        refreshes: this.kernel.refreshes,
        refreshSeconds: this.kernel.refreshSeconds,
      });
    this.m.vocabulary('word', this.model.vocab.size, this.model.vocab.refusedCount);
  }

  details(): Record<string, number> {
    const counts = this.model.vocab.counts;
    let tokens = 0;
    for (let a = 0; a < counts.length; a++) tokens += counts[a];
    return { words: this.model.vocab.size, tokens };
  }

  async close(): Promise<void> {
    await this.kernel.close();
  }
}
