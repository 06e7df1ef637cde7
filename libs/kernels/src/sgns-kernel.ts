import { AliasTable, Matrix, Rng, SigmoidTable, keepProbabilities, refreshCadence } from '@freshet/core';
import { MemoryLayout, drainFlags } from './memory.js';
import { heapBase, instantiate } from './modules.js';
import { AsyncTableRefresher, CTRL, SwappableRankTables, TableRefreshClient, tablesStaleness, type TableMaintainer, type TableRegions } from './tables.js';

/** Everything the kernel needs to lay out its memory; identical in every thread. */
export interface SgnsKernelSpec {
  dim: number;
  /** most words with a row (offline: the vocabulary; streaming: the cap) */
  vocabCap: number;
  window: number;
  negatives: number;
  /** subsampling threshold (0: off) */
  sample: number;
  /** popularity exponent for the alias table */
  alpha: number;
  sampler: 'popularity' | 'adaptive';
  /** adaptive: λ as a fraction of the vocabulary */
  lambdaFraction: number;
  /** adaptive: share of popularity draws mixed in */
  mixShare: number;
  /** adaptive: draws between table refreshes (0: ceil(|V| ln |V|)) */
  refreshEvery: number;
  /** adaptive: refresh on a thread of its own, never stopping training for a sort */
  asyncRefresh?: boolean;
  /**
   * adaptive: rank only the `head` most frequent words (ids are frequency-ranked offline); the
   * rest are drawn through the popularity mix. Their rows stay in cache and a refresh sorts
   * head items instead of |V|. 0: every word.
   */
  head?: number;
  /** corpus slots (offline: one, shared by every thread; streaming: one per thread) */
  slots: number;
  /** tokens and sentences a slot holds */
  slotTokens: number;
  slotSentences: number;
  /** longest sentence (per-thread scratch) */
  maxSentence: number;
  threads: number;
  /** keep a changed-row flag per word (the streaming trainer publishes those input vectors) */
  trackChanges?: boolean;
}

interface Layout {
  k4: number;
  ctrl: number;
  input: number;
  output: number;
  alias: [number, number];
  keep: [number, number];
  sig: number;
  tables: [number, number];
  sigma: [number, number];
  /** per-thread scratch: neu1e f32[k4], targets i32[negatives + 1], sentence i32[maxSentence] */
  scratch: number;
  scratchBytes: number;
  /** per slot: tokens i32[slotTokens], then starts i32[slotSentences + 1] */
  slots: number;
  slotBytes: number;
  dirty: number;
}

/** Control-block slots of this kernel beside the rank tables' (see tables.ts CTRL). */
const C = { vocab: 0, aliasSize: 1, alias: 2, keep: 14, keepSize: 15, cap: 16 } as const;

function layoutOf(spec: SgnsKernelSpec): { layout: Layout; regions: MemoryLayout } {
  const k4 = Math.ceil(spec.dim / 4) * 4;
  const v = spec.vocabCap;
  const adaptive = spec.sampler === 'adaptive';
  const m = new MemoryLayout('the skip-gram model', heapBase('sgns'));
  // per thread: neu1e f32[k4], this pair's targets i32[negatives + 1], the sentence i32[maxSentence]
  const scratchBytes = Math.ceil((k4 * 4 + (spec.negatives + 1) * 4 + spec.maxSentence * 4) / 64) * 64;
  const slotBytes = Math.ceil((spec.slotTokens * 4 + (spec.slotSentences + 1) * 4) / 64) * 64;
  const layout: Layout = {
    k4,
    ctrl: m.take('control', 128),
    input: m.take('input vectors', v * k4 * 4),
    output: m.take('output vectors', v * k4 * 4),
    alias: [m.take('alias table', v * 8), m.take('alias table (second buffer)', v * 8)],
    keep: [m.take('keep probabilities', v * 4), m.take('keep probabilities (second buffer)', v * 4)],
    sig: m.take('sigmoid table', 1001 * 4),
    tables: [adaptive ? m.take('rank tables', spec.dim * v * 4) : 0, adaptive ? m.take('rank tables (second buffer)', spec.dim * v * 4) : 0],
    sigma: [m.take('sigma', k4 * 4), m.take('sigma (second buffer)', k4 * 4)],
    scratch: m.take('thread scratch', scratchBytes * spec.threads),
    scratchBytes,
    slots: m.take('corpus slots', slotBytes * spec.slots),
    slotBytes,
    dirty: spec.trackChanges === true ? m.take('changed words', v) : 0,
  };
  return { layout, regions: m };
}

interface KernelExports {
  configure(k4: number, dim: number, inOff: number, outOff: number, sigOff: number, ctrl: number, window: number, negatives: number, subsample: number, mode: number, mix: number, retries: number, dirty: number, head: number): void;
  configureScratch(neu1e: number, sen: number, targets: number): void;
  seed(a: number, b: number, c: number, d: number): void;
  train(corpus: number, starts: number, from: number, to: number, lr: number, drawLimit: number): number;
  wordsTrained(): number;
  counters(which: number): number;
}

/** What a Hogwild worker receives to attach to the same memory. */
export interface SgnsKernelShare {
  spec: SgnsKernelSpec;
  memory: WebAssembly.Memory;
}

/** A slot's corpus: fill ids and starts (sentence s spans ids[starts[s] .. starts[s+1])). */
export interface CorpusSlot {
  ids: Int32Array;
  starts: Int32Array;
}

/**
 * Skip-gram whose sentence loop runs in WebAssembly SIMD, over a memory that holds the whole
 * model for the vocabulary cap: input and output vectors, the popularity alias table and the
 * subsampling keep table (each double-buffered, rebuilt as counts grow and swapped in), the rank
 * tables (double-buffered, refreshed inline or on a thread of their own), and corpus slots the
 * caller fills with encoded sentences. `input` and `output` expose the vectors as matrices for
 * the vocabulary to initialise rows and for readers.
 */
export class SgnsKernel {
  readonly layout: Layout;
  readonly input: Matrix;
  readonly output: Matrix;
  private readonly exports: KernelExports;
  private readonly ctrl: Int32Array;
  private readonly tables: TableMaintainer | null;
  private drawsAtRefresh = 0;
  private aliasFront = 0;
  private keepFront = 0;
  /** Hogwild: the refreshing thread sees only its own draws, so with T threads it refreshes after 1/T of the interval. */
  refreshDivisor = 1;

  private constructor(
    readonly spec: SgnsKernelSpec,
    readonly memory: WebAssembly.Memory,
    thread: number,
    seed: number,
  ) {
    this.layout = layoutOf(spec).layout;
    const L = this.layout;
    this.exports = instantiate<KernelExports>('sgns', memory);
    this.exports.configure(L.k4, spec.dim, L.input, L.output, L.sig, L.ctrl, spec.window, spec.negatives, spec.sample > 0 ? 1 : 0, spec.sampler === 'adaptive' ? 1 : 0, spec.mixShare, 10, L.dirty, (spec.head ?? 0) > 0 ? 1 : 0);
    const scratch = L.scratch + thread * L.scratchBytes;
    this.exports.configureScratch(scratch, scratch + L.k4 * 4 + (spec.negatives + 1) * 4, scratch + L.k4 * 4);
    const rng = new Rng(seed);
    this.exports.seed(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
    this.ctrl = new Int32Array(memory.buffer, L.ctrl, 32);
    const matrix = (offset: number): Matrix => new Matrix(L.k4, 0, { data: new Float32Array(memory.buffer, offset, spec.vocabCap * L.k4), fixed: true });
    this.input = matrix(L.input);
    this.output = matrix(L.output);
    // with asyncRefresh thread 0 starts the refresher and every thread asks it when its share of
    // the cadence is due; otherwise thread 0 refreshes inline and the others only read
    const regions = this.tableRegions();
    if (spec.sampler !== 'adaptive') this.tables = null;
    else if (spec.asyncRefresh === true) this.tables = thread === 0 ? new AsyncTableRefresher(memory, regions) : new TableRefreshClient(memory, regions);
    else this.tables = thread === 0 ? new SwappableRankTables(memory, regions) : null;
  }

  /** Lays out a new memory for the spec (address space only until rows are written). */
  static create(spec: SgnsKernelSpec, seed: number): SgnsKernel {
    const memory = layoutOf(spec).regions.allocate();
    const kernel = new SgnsKernel(spec, memory, 0, seed);
    new Float32Array(memory.buffer, kernel.layout.sig, 1001).set(new SigmoidTable().values);
    kernel.ctrl[C.cap] = spec.vocabCap;
    kernel.ctrl[C.alias] = kernel.layout.alias[0];
    kernel.ctrl[C.keep] = kernel.layout.keep[0];
    return kernel;
  }

  /** Another thread's view of an existing kernel memory (thread >= 1). */
  static attach(share: SgnsKernelShare, thread: number, seed: number): SgnsKernel {
    return new SgnsKernel(share.spec, share.memory, thread, seed);
  }

  share(): SgnsKernelShare {
    return { spec: this.spec, memory: this.memory };
  }

  private tableRegions(): TableRegions {
    const L = this.layout;
    return { ctrl: L.ctrl, tables: L.tables, sigma: L.sigma, dims: this.spec.dim, stride: this.spec.vocabCap, items: L.output, width: L.k4 };
  }

  /** A corpus slot to fill before train(). */
  slot(index: number): CorpusSlot {
    const at = this.layout.slots + index * this.layout.slotBytes;
    return { ids: new Int32Array(this.memory.buffer, at, this.spec.slotTokens), starts: new Int32Array(this.memory.buffer, at + this.spec.slotTokens * 4, this.spec.slotSentences + 1) };
  }

  /** Words with a row: the kernel trains only those (ids beyond are skipped). */
  setVocabSize(words: number): void {
    if (words > this.spec.vocabCap) throw new Error(`skip-gram kernel: ${words} words exceed the reserved ${this.spec.vocabCap}`);
    Atomics.store(this.ctrl, C.vocab, words);
  }

  get vocabSize(): number {
    return this.ctrl[C.vocab];
  }

  /**
   * Rebuilds the popularity alias table (count^alpha) and the subsampling keep table from the
   * counts, each into its buffer not in use, then swaps them in. Words beyond counts.length are
   * drawn only once the next rebuild covers them, and kept whole until then.
   */
  rebuildCounts(counts: ArrayLike<number>): void {
    const n = Math.min(counts.length, this.spec.vocabCap);
    if (n === 0) return;
    const weights = new Float64Array(n);
    for (let i = 0; i < n; i++) weights[i] = Math.pow(counts[i], this.spec.alpha);
    const aliasBack = (1 - this.aliasFront) as 0 | 1;
    const at = this.layout.alias[aliasBack];
    new AliasTable(weights).exportTo(new Float32Array(this.memory.buffer, at, n), new Int32Array(this.memory.buffer, at + this.spec.vocabCap * 4, n));
    Atomics.store(this.ctrl, C.alias, at);
    Atomics.store(this.ctrl, C.aliasSize, n);
    this.aliasFront = aliasBack;
    const keepBack = (1 - this.keepFront) as 0 | 1;
    keepProbabilities(counts, this.spec.sample, new Float32Array(this.memory.buffer, this.layout.keep[keepBack], n));
    Atomics.store(this.ctrl, C.keep, this.layout.keep[keepBack]);
    Atomics.store(this.ctrl, C.keepSize, n);
    this.keepFront = keepBack;
  }

  private refreshInterval(): number {
    const v = this.ctrl[C.vocab];
    const every = this.spec.refreshEvery > 0 ? this.spec.refreshEvery : refreshCadence(v);
    return every / this.refreshDivisor;
  }

  /** True when the adaptive tables have served their refresh interval of draws (or were never built). */
  get refreshDue(): boolean {
    if (this.tables === null) return false;
    return this.ctrl[CTRL.size] === 0 || this.exports.counters(1) - this.drawsAtRefresh >= this.refreshInterval();
  }

  /** Rebuilds the rank tables from the output vectors (inline, or asks the refresher thread). */
  refreshTables(): void {
    if (this.tables === null) return;
    const v = this.ctrl[C.vocab];
    const head = this.spec.head ?? 0;
    const n = head > 0 ? Math.min(head, v) : v;
    if (this.tables.request(n, Math.max(1e-6, this.spec.lambdaFraction * n))) this.drawsAtRefresh = this.exports.counters(1);
  }

  private drawLimit(): number {
    if (this.tables === null || this.tables.busy) return Number.MAX_VALUE;
    return Math.max(1, this.drawsAtRefresh + this.refreshInterval() - this.exports.counters(1));
  }

  /**
   * Trains sentences [from, to) of a slot at learning rate lr until the adaptive tables fall due;
   * returns the next sentence to train and the raw words trained.
   */
  train(slot: number, from: number, to: number, lr: number): { next: number; words: number } {
    if (this.refreshDue) this.refreshTables();
    const at = this.layout.slots + slot * this.layout.slotBytes;
    const next = this.exports.train(at, at + this.spec.slotTokens * 4, from, to, lr, this.drawLimit());
    return { next, words: this.exports.wordsTrained() };
  }

  get refreshes(): number {
    return this.tables?.refreshes ?? 0;
  }

  get refreshSeconds(): number {
    return this.tables?.refreshSeconds ?? 0;
  }

  /** Share of adjacent pairs in the rank tables in use that the output vectors now order differently. */
  staleness(sampleDims: number, rng: Rng): number {
    return this.spec.sampler !== 'adaptive' ? 0 : tablesStaleness(this.memory, this.tableRegions(), sampleDims, (k) => rng.nextInt(k));
  }

  /** Ids of the words whose input vectors changed since the last drain (flags cleared). */
  drainChanged(size = this.vocabSize): Int32Array {
    return drainFlags(this.memory, this.layout.dirty, size);
  }

  /** Copies the trained vectors out (dim columns, padding dropped). */
  readVectors(which: 'input' | 'output', into: Float32Array, words = this.vocabSize): void {
    const src = which === 'input' ? this.input.data : this.output.data;
    const { dim } = this.spec;
    const k4 = this.layout.k4;
    for (let r = 0; r < words; r++) for (let f = 0; f < dim; f++) into[r * dim + f] = src[r * k4 + f];
  }

  /** Copies vectors in (dim columns per row). */
  writeVectors(which: 'input' | 'output', from: Float32Array, words: number): void {
    const dst = which === 'input' ? this.input.data : this.output.data;
    const { dim } = this.spec;
    const k4 = this.layout.k4;
    for (let r = 0; r < words; r++) for (let f = 0; f < dim; f++) dst[r * k4 + f] = from[r * dim + f];
  }

  counters(): { pairs: number; draws: number; fallbacks: number; mixed: number; loss: number; lossSum: number } {
    const e = this.exports;
    const pairs = e.counters(0);
    const measured = e.counters(5);
    const loss = measured > 0 ? e.counters(4) / measured : 0;
    return { pairs, draws: e.counters(1), fallbacks: e.counters(2), mixed: e.counters(3), loss, lossSum: loss * pairs };
  }

  /** Stops the refresher thread, if any (thread 0 only). */
  async close(): Promise<void> {
    await this.tables?.close();
  }
}
