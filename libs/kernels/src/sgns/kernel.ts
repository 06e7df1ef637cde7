import { AliasTable, Matrix, Rng, SigmoidTable, keepProbabilities } from '@freshet/core';
import { SGNS_CONFIG, SGNS_CONTROL, SGNS_COUNTERS, SGNS_SAMPLERS } from '../abi.js';
import { BlockView, type Block } from '../blocks.js';
import { RefreshCadence } from '../cadence.js';
import { drainFlags } from '../memory.js';
import { instantiate } from '../modules.js';
import { tableMaintainer, tablesStaleness, type TableMaintainer } from '../tables.js';
import { SGNS_THREAD_BLOCKS, SIGMOID_ENTRIES, sgnsLayout, sgnsTableRegions, type SgnsLayout } from './layout.js';
import type { CorpusSlot, SgnsCounters, SgnsShare, SgnsSpec } from './spec.js';

/** The kernel's exports (assembly/sgns.ts); every block crosses by pointer, every field by name. */
interface SgnsExports {
  configure(config: number): void;
  echoConfig(out: number): void;
  echoControl(out: number): void;
  writeCounters(out: number): void;
  drawsSoFar(): number;
  seed(a: number, b: number, c: number, d: number): void;
  train(corpus: number, starts: number, from: number, to: number, lr: number, drawLimit: number): number;
  wordsTrained(): number;
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
  readonly layout: SgnsLayout;
  readonly input: Matrix;
  readonly output: Matrix;
  /** the control block every thread reads, by field name */
  readonly control: BlockView<keyof typeof SGNS_CONTROL.fields>;
  /** this instance's configuration block, by field name */
  readonly config: BlockView<keyof typeof SGNS_CONFIG.fields>;
  private readonly totals: BlockView<keyof typeof SGNS_COUNTERS.fields>;
  private readonly exports: SgnsExports;
  private readonly tables: TableMaintainer | null;
  private readonly cadence: RefreshCadence;
  private aliasFront = 0;
  private keepFront = 0;

  private constructor(
    readonly spec: SgnsSpec,
    readonly memory: WebAssembly.Memory,
    readonly thread: number,
    seed: number,
  ) {
    this.layout = sgnsLayout(spec).layout;
    const L = this.layout;
    if (thread >= spec.threads) throw new Error(`sgns kernel: thread ${thread} beyond the ${spec.threads} the memory was laid out for`);
    this.exports = instantiate<SgnsExports>('sgns', memory);
    this.control = new BlockView(SGNS_CONTROL, memory.buffer, L.ctrl);
    const blocks = L.blocks + thread * SGNS_THREAD_BLOCKS;
    this.config = new BlockView(SGNS_CONFIG, memory.buffer, blocks);
    this.totals = new BlockView(SGNS_COUNTERS, memory.buffer, blocks + SGNS_CONFIG.bytes);
    const scratch = L.scratch + thread * L.scratchBytes;
    this.config.write({
      stride: L.k4,
      dim: spec.dim,
      input: L.input,
      output: L.output,
      sigmoid: L.sig,
      control: L.ctrl,
      window: spec.window,
      negatives: spec.negatives,
      subsample: spec.sample > 0 ? 1 : 0,
      sampler: SGNS_SAMPLERS.code(spec.sampler),
      mixShare: spec.mixShare,
      maxRetries: 10,
      changed: L.dirty,
      changedOutput: L.dirtyOutput,
      headOnly: (spec.head ?? 0) > 0 ? 1 : 0,
      neu1e: scratch,
      targets: scratch + L.k4 * 4,
      sentence: scratch + L.k4 * 4 + (spec.negatives + 1) * 4,
    });
    this.exports.configure(this.config.offset);
    const rng = new Rng(seed);
    this.exports.seed(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
    const matrix = (offset: number): Matrix => new Matrix(L.k4, 0, { data: new Float32Array(memory.buffer, offset, spec.vocabCap * L.k4), fixed: true });
    this.input = matrix(L.input);
    this.output = matrix(L.output);
    this.tables = spec.sampler === 'adaptive' ? tableMaintainer(memory, sgnsTableRegions(spec, L), thread, spec.asyncRefresh === true) : null;
    this.cadence = new RefreshCadence(spec.refreshEvery);
  }

  /** Lays out a new memory for the spec (address space only until rows are written). */
  static create(spec: SgnsSpec, seed: number): SgnsKernel {
    const memory = sgnsLayout(spec).regions.allocate();
    const kernel = new SgnsKernel(spec, memory, 0, seed);
    new Float32Array(memory.buffer, kernel.layout.sig, SIGMOID_ENTRIES).set(new SigmoidTable().values);
    kernel.control.store('cap', spec.vocabCap);
    kernel.control.store('alias', kernel.layout.alias[0]);
    kernel.control.store('keep', kernel.layout.keep[0]);
    return kernel;
  }

  /** Another thread's view of an existing kernel memory (thread >= 1). */
  static attach(share: SgnsShare, thread: number, seed: number): SgnsKernel {
    return new SgnsKernel(share.spec, share.memory, thread, seed);
  }

  share(): SgnsShare {
    return { spec: this.spec, memory: this.memory };
  }

  /** Threads drawing from the same rank tables: each asks for a refresh after its share of the cadence. */
  shareCadence(threads: number): void {
    this.cadence.divisor = threads;
  }

  /** A corpus slot to fill before train(). */
  slot(index: number): CorpusSlot {
    const at = this.layout.slots + index * this.layout.slotBytes;
    return {
      ids: new Int32Array(this.memory.buffer, at, this.spec.slotTokens),
      starts: new Int32Array(this.memory.buffer, at + this.spec.slotTokens * 4, this.spec.slotSentences + 1),
    };
  }

  /** Words with a row: the kernel trains only those (ids beyond are skipped). */
  setVocabSize(words: number): void {
    if (words > this.spec.vocabCap) throw new Error(`skip-gram kernel: ${words} words exceed the reserved ${this.spec.vocabCap}`);
    this.control.store('vocab', words);
  }

  get vocabSize(): number {
    return this.control.load('vocab');
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
    this.control.store('alias', at);
    this.control.store('aliasSize', n);
    this.aliasFront = aliasBack;
    const keepBack = (1 - this.keepFront) as 0 | 1;
    keepProbabilities(counts, this.spec.sample, new Float32Array(this.memory.buffer, this.layout.keep[keepBack], n));
    this.control.store('keep', this.layout.keep[keepBack]);
    this.control.store('keepSize', n);
    this.keepFront = keepBack;
  }

  /** True when the adaptive tables have served their refresh interval of draws (or were never built). */
  get refreshDue(): boolean {
    if (this.tables === null) return false;
    return this.cadence.due(this.exports.drawsSoFar(), this.control.load('vocab'), this.control.load('tableSize') !== 0);
  }

  /** Rebuilds the rank tables from the output vectors (inline, or asks the refresher thread). */
  refreshTables(): void {
    if (this.tables === null) return;
    const v = this.control.load('vocab');
    const head = this.spec.head ?? 0;
    const n = head > 0 ? Math.min(head, v) : v;
    if (this.tables.request(n, Math.max(1e-6, this.spec.lambdaFraction * n))) this.cadence.refreshed(this.exports.drawsSoFar());
  }

  private drawLimit(): number {
    if (this.tables === null) return Number.MAX_VALUE;
    return this.cadence.limit(this.exports.drawsSoFar(), this.control.load('vocab'), this.tables.busy);
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
    return this.spec.sampler !== 'adaptive' ? 0 : tablesStaleness(this.memory, sgnsTableRegions(this.spec, this.layout), sampleDims, (k) => rng.nextInt(k));
  }

  /** Ids of the words whose input vectors changed since the last drain (flags cleared). */
  drainChanged(size = this.vocabSize): Int32Array {
    return drainFlags(this.memory, this.layout.dirty, size);
  }

  /** Ids of the words whose output vectors changed since the last call (flags cleared): an incremental checkpoint holds them. */
  drainChangedOutput(size = this.vocabSize): Int32Array {
    return drainFlags(this.memory, this.layout.dirtyOutput, size);
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

  /** Running totals of this instance, with the mean loss per pair. */
  counters(): SgnsCounters & { loss: number } {
    this.exports.writeCounters(this.totals.offset);
    const t = this.totals.read();
    const loss = t.lossPairs > 0 ? t.lossSum / t.lossPairs : 0;
    return { pairs: t.pairs, draws: t.draws, fallbacks: t.fallbacks, mixed: t.mixed, loss, lossSum: loss * t.pairs };
  }

  /** What the kernel took from its configuration block, by field name (the ABI test; the block is restored after). */
  echoConfig(): Record<keyof typeof SGNS_CONFIG.fields, number> {
    return this.echoInto(SGNS_CONFIG, (out) => this.exports.echoConfig(out));
  }

  /** What the kernel reads from the control block, by field name (the ABI test). */
  echoControl(): Record<keyof typeof SGNS_CONTROL.fields, number> {
    return this.echoInto(SGNS_CONTROL, (out) => this.exports.echoControl(out));
  }

  /** Lets the kernel write a block into this thread's configuration block, reads it, and restores the configuration. */
  private echoInto<F extends string>(b: Block<F>, write: (out: number) => void): Record<F, number> {
    const saved = this.config.read();
    const scratch = new BlockView(b, this.memory.buffer, this.config.offset);
    this.config.clear();
    write(scratch.offset);
    const out = scratch.read();
    this.config.clear();
    this.config.write(saved);
    return out;
  }

  /** Makes the kernel read its configuration block again (the ABI test). */
  reconfigure(): void {
    this.exports.configure(this.config.offset);
  }

  /** Stops the refresher thread, if any (thread 0 only). */
  async close(): Promise<void> {
    await this.tables?.close();
  }
}
