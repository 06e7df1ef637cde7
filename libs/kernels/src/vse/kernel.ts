import { Matrix, PositiveStore, Rng, emptyStats, type ImageLabelStorage, type PairSet } from '@freshet/core';
import { VSE_CONFIG, VSE_CONTROL, VSE_COUNTERS, VSE_SAMPLERS } from '../abi.js';
import { BlockView, type Block } from '../blocks.js';
import { RefreshCadence } from '../cadence.js';
import { drainFlags } from '../memory.js';
import { instantiate } from '../modules.js';
import { tableMaintainer, tablesStaleness, type TableMaintainer } from '../tables.js';
import { MAX_CANDIDATES, SCORE_BLOCK, VSE_THREAD_BLOCKS, vseLayout, vseTableRegions, type VseLayout } from './layout.js';
import { AUTO_CANDIDATES, AUTO_DNS_LABELS, AUTO_SAMPLER_LABELS, type VseCounters, type VseShare, type VseSpec } from './spec.js';

/** The kernel's exports (assembly/vse.ts); every block crosses by pointer, every field by name. */
interface VseExports {
  configure(config: number): void;
  echoConfig(out: number): void;
  echoControl(out: number): void;
  writeCounters(out: number): void;
  drawsSoFar(): number;
  seed(a: number, b: number, c: number, d: number): void;
  scoreLabels(images: number, count: number, out: number): void;
  trainRandom(count: number, lr: number, drawLimit: number): number;
  trainList(list: number, weights: number, count: number, lr: number): void;
  sampleNegatives(i: number, a: number, count: number, out: number): void;
  drawRandom(count: number, drawLimit: number): number;
}

/**
 * The image-label model's SGD step in WebAssembly SIMD (assembly/vse.ts) over a memory that holds
 * the whole model (vectors, AdaGrad sums, positives, the pair set, WARP's weights, rank tables);
 * `storage` exposes it to an ImageLabelModel, which keeps the vocabularies and fills rows and
 * positives as names arrive. Rank tables are double-buffered: a refresh writes the buffer not in
 * use, then switches the control block to it, never disturbing draws in flight on other threads.
 */
export class VseKernel {
  readonly storage: ImageLabelStorage;
  private readonly exports: VseExports;
  /** the control block every thread reads, by field name */
  readonly control: BlockView<keyof typeof VSE_CONTROL.fields>;
  /** this instance's configuration block, by field name */
  readonly config: BlockView<keyof typeof VSE_CONFIG.fields>;
  private readonly totals: BlockView<keyof typeof VSE_COUNTERS.fields>;
  private readonly tables: TableMaintainer | null;
  private readonly cadence: RefreshCadence;
  private readonly listOffset: number;
  /** observed pairs per label (the in-batch sampler's frequencies): one view, kept (the memory never moves) */
  private readonly labelCounts: Int32Array;
  private pairHead = 0;

  private constructor(
    readonly spec: VseSpec,
    readonly memory: WebAssembly.Memory,
    private readonly layout: VseLayout,
    readonly thread: number,
    seed: number,
  ) {
    const c = spec.config;
    const L = layout;
    const buffer = memory.buffer;
    if (thread >= L.threads) throw new Error(`vse kernel: thread ${thread} beyond the ${L.threads} the memory was laid out for`);
    this.exports = instantiate<VseExports>('vse', memory);
    this.control = new BlockView(VSE_CONTROL, buffer, L.ctrl);
    const blocks = L.blocks + thread * VSE_THREAD_BLOCKS;
    this.config = new BlockView(VSE_CONFIG, buffer, blocks);
    this.totals = new BlockView(VSE_COUNTERS, buffer, blocks + VSE_CONFIG.bytes);
    const s = spec.sampler;
    this.config.write({
      dim: c.dim,
      cols: c.dim + (c.labelBias ? 1 : 0),
      rowBytes: L.width * 4,
      imageRows: L.u,
      labelRows: L.v,
      imageSums: L.gu,
      labelSums: L.gv,
      positiveHeaders: L.posHdr,
      positiveArena: L.posArena,
      pairs: L.pairs,
      warpWeights: L.harm,
      control: L.ctrl,
      changedImages: L.dirtyImages,
      changedLabels: L.dirtyLabels,
      labelBias: c.labelBias ? 1 : 0,
      margin: c.margin,
      reg: c.reg,
      sampler: VSE_SAMPLERS.code(s.kind),
      candidates: Math.max(1, Math.floor(s.candidates)),
      maxSampled: Number.isFinite(s.maxSampled) ? Math.max(1, Math.floor(s.maxSampled)) : 0x7fffffff,
      mixShare: s.mixShare,
      maxRetries: s.maxRetries,
      autoLabels: s.autoLabels ?? AUTO_SAMPLER_LABELS,
      autoDnsLabels: s.autoDnsLabels ?? AUTO_DNS_LABELS,
      autoCandidates: s.autoCandidates ?? AUTO_CANDIDATES,
      labelCounts: L.labelCounts,
      temperature: s.temperature ?? 1,
      scratch: L.scratch + thread * MAX_CANDIDATES * 8,
    });
    this.exports.configure(this.config.offset);
    const rng = new Rng(seed);
    this.exports.seed(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
    const f32 = (offset: number, rows: number): Matrix => new Matrix(L.width, 0, { data: new Float32Array(buffer, offset, rows * L.width), fixed: true });
    this.storage = {
      imageVectors: f32(L.u, c.imageCap),
      labelVectors: f32(L.v, c.labelCap),
      imageAccumulators: L.gu !== 0 ? f32(L.gu, c.imageCap) : null,
      labelAccumulators: L.gv !== 0 ? f32(L.gv, c.labelCap) : null,
      positives: new PositiveStore(
        { header: new Int32Array(buffer, L.posHdr, 2 * c.imageCap), arena: new Int32Array(buffer, L.posArena, L.positiveSlots) },
        false,
      ),
    };
    this.tables = spec.sampler.kind === 'adaptive' ? tableMaintainer(memory, vseTableRegions(spec, L), thread, spec.sampler.asyncRefresh === true) : null;
    this.cadence = new RefreshCadence(s.refreshEvery);
    this.listOffset = L.lists + thread * L.listCapacity * 12;
    this.labelCounts = new Int32Array(buffer, L.labelCounts, c.labelCap);
  }

  /** Lays out a new memory for the spec's caps (address space only until rows are written). */
  static create(spec: VseSpec, seed: number): VseKernel {
    const { layout, regions } = vseLayout(spec);
    const memory = regions.allocate();
    const kernel = new VseKernel(spec, memory, layout, 0, seed);
    const harm = new Float32Array(memory.buffer, layout.harm, spec.config.labelCap + 1);
    for (let j = 1; j <= spec.config.labelCap; j++) harm[j] = harm[j - 1] + 1 / j;
    return kernel;
  }

  /** Another thread's view of an existing kernel memory (thread >= 1). */
  static attach(share: VseShare, thread: number, seed: number): VseKernel {
    return new VseKernel(share.spec, share.memory, vseLayout(share.spec).layout, thread, seed);
  }

  share(): VseShare {
    return { spec: this.spec, memory: this.memory };
  }

  /** Threads drawing from the same rank tables: each asks for a refresh after its share of the cadence. */
  shareCadence(threads: number): void {
    this.cadence.divisor = threads;
  }

  /** Tells the kernel how many labels and images exist (after the model grew). */
  setSizes(labels: number, images: number): void {
    this.control.store('labels', labels);
    this.control.store('images', images);
  }

  /** Replaces the pair set that trainRandom draws from (offline training). */
  setPairs(pairs: PairSet): void {
    if (pairs.length > this.spec.pairCapacity) throw new Error(`vse kernel: ${pairs.length} pairs exceed the reserved ${this.spec.pairCapacity}`);
    const at = new Int32Array(this.memory.buffer, this.layout.pairs, 2 * pairs.length);
    const counts = this.labelCounts;
    counts.fill(0);
    for (let p = 0; p < pairs.length; p++) {
      at[2 * p] = pairs.images[p];
      at[2 * p + 1] = pairs.labels[p];
      counts[pairs.labels[p]]++;
    }
    this.control.store('pairs', pairs.length);
    this.pairHead = pairs.length % Math.max(1, this.spec.pairCapacity);
  }

  /** The replay memory's pairs (image, label: i32 x 2 each), a view: an evicted image's are set to image -1, which steps skip. */
  replayPairs = (): Int32Array => new Int32Array(this.memory.buffer, this.layout.pairs, 2 * this.control.load('pairs'));

  /** Adds a pair to the replay memory (a ring: the oldest pair is overwritten when full). */
  remember(image: number, label: number): void {
    const cap = this.spec.pairCapacity;
    const at = new Int32Array(this.memory.buffer, this.layout.pairs + this.pairHead * 8, 2);
    const counts = this.labelCounts;
    const held = this.control.load('pairs');
    // the pair it overwrites (a full ring) leaves the counts
    if (held === cap) counts[at[1]]--;
    at[0] = image;
    at[1] = label;
    counts[label]++;
    this.pairHead = (this.pairHead + 1) % cap;
    if (held < cap) this.control.store('pairs', held + 1);
  }

  /** λ in rank units for n labels. */
  private lambdaFor(n: number): number {
    const s = this.spec.sampler;
    return s.lambda ?? Math.max(1e-6, s.lambdaFraction * n);
  }

  /** True when the rank tables have served their interval of draws (or were never built). */
  get refreshDue(): boolean {
    if (this.tables === null) return false;
    return this.cadence.due(this.exports.drawsSoFar(), this.control.load('labels'), this.control.load('tableSize') !== 0);
  }

  /**
   * Rebuilds the rank tables from the current label vectors (the buffer not in use, then a swap),
   * inline or on the refresher thread. The cadence counts from when the refresh was asked for.
   */
  refreshTables(): void {
    if (this.tables === null) return;
    const n = this.control.load('labels');
    if (this.tables.request(n, this.lambdaFor(n))) this.cadence.refreshed(this.exports.drawsSoFar());
  }

  /** Draws this thread may make before the tables fall due (no limit without tables or while a refresh is in flight). */
  private drawLimit(): number {
    if (this.tables === null) return Number.MAX_VALUE;
    return this.cadence.limit(this.exports.drawsSoFar(), this.control.load('labels'), this.tables.busy);
  }

  /** Rank-table refreshes and their seconds. */
  get refreshStats(): { refreshes: number; seconds: number } {
    return this.tables === null ? { refreshes: 0, seconds: 0 } : { refreshes: this.tables.refreshes, seconds: this.tables.refreshSeconds };
  }

  /** Staleness of the tables in use (share of adjacent pairs out of order now). */
  staleness(sampleDims: number, rng: Rng): number {
    return this.spec.sampler.kind !== 'adaptive' ? 0 : tablesStaleness(this.memory, vseTableRegions(this.spec, this.layout), sampleDims, (k) => rng.nextInt(k));
  }

  /** Stops the refresher thread, if any. */
  async close(): Promise<void> {
    await this.tables?.close();
  }

  /** `steps` steps on pairs drawn uniformly from the pair set; refreshes the tables on cadence. */
  trainRandom(steps: number, lr: number): void {
    let left = steps;
    while (left > 0) {
      if (this.refreshDue) this.refreshTables();
      left -= this.exports.trainRandom(left, lr, this.drawLimit());
    }
  }

  /** The step list of a thread: the caller fills pairs (image, label interleaved) and weights, then that thread runs trainOwnList. */
  listFor(thread: number): { pairs: Int32Array; weights: Float32Array; capacity: number } {
    const at = this.layout.lists + thread * this.layout.listCapacity * 12;
    const cap = this.layout.listCapacity;
    return { pairs: new Int32Array(this.memory.buffer, at, 2 * cap), weights: new Float32Array(this.memory.buffer, at + cap * 8, cap), capacity: cap };
  }

  /** Steps on the first `count` pairs of this thread's own list (filled by another thread). */
  trainOwnList(count: number, weighted: boolean, lr: number): void {
    if (this.refreshDue) this.refreshTables();
    this.exports.trainList(this.listOffset, weighted ? this.listOffset + this.layout.listCapacity * 8 : 0, count, lr);
  }

  /** Ids of the rows changed since the last drain (flags cleared); empty when changes are not tracked. */
  drainChanged(which: 'images' | 'labels', size: number): Int32Array {
    return drainFlags(this.memory, which === 'images' ? this.layout.dirtyImages : this.layout.dirtyLabels, size);
  }

  /** Clears the changed flags of `ids` (rows drained another way); call between batches. */
  clearChanged(which: 'images' | 'labels', ids: Int32Array): void {
    const offset = which === 'images' ? this.layout.dirtyImages : this.layout.dirtyLabels;
    if (offset === 0) return;
    const flags = new Uint8Array(this.memory.buffer, offset, this.control.load(which === 'images' ? 'images' : 'labels'));
    for (let j = 0; j < ids.length; j++) if (ids[j] < flags.length) flags[ids[j]] = 0;
  }

  /** `count` negative draws, each for a random observed pair, without training (the sampler-cost benchmark); refreshes on cadence. */
  drawRandom(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.refreshDue) this.refreshTables();
      left -= this.exports.drawRandom(left, this.drawLimit());
    }
  }

  /**
   * Scores of every label for up to SCORE_BLOCK images (SIMD, bias included, one pass over the
   * label rows): image b's scores at [b * labels, (b + 1) * labels) of a view valid until the next
   * call, on one thread (the one that evaluates). The held-out evaluation ranks them.
   */
  scoreLabels(images: ArrayLike<number>): Float32Array {
    if (images.length > SCORE_BLOCK) throw new RangeError(`scoreLabels takes at most ${SCORE_BLOCK} images at once, got ${images.length}`);
    new Int32Array(this.memory.buffer, this.layout.scoreImages, images.length).set(images);
    this.exports.scoreLabels(this.layout.scoreImages, images.length, this.layout.scores);
    return new Float32Array(this.memory.buffer, this.layout.scores, images.length * this.control.load('labels'));
  }

  /** Sets the kernel's random stream (parity tests start it where a TypeScript Rng is). */
  setRngState(state: readonly [number, number, number, number]): void {
    this.exports.seed(state[0], state[1], state[2], state[3]);
  }

  /** Draws negatives for (image, positive) with the configured sampler, without training (tests). */
  sampleNegatives(image: number, positive: number, count: number): Int32Array {
    const out = new Int32Array(count);
    const list = new Int32Array(this.memory.buffer, this.listOffset, 2 * this.layout.listCapacity);
    for (let start = 0; start < count; start += list.length) {
      const n = Math.min(list.length, count - start);
      this.exports.sampleNegatives(image, positive, n, this.listOffset);
      out.set(list.subarray(0, n), start);
    }
    return out;
  }

  counters(): VseCounters {
    this.exports.writeCounters(this.totals.offset);
    const r = this.refreshStats;
    return { ...emptyStats(), ...this.totals.read(), refreshes: r.refreshes, refreshSeconds: r.seconds };
  }

  /** What the kernel took from its configuration block, by field name (the ABI test; the block is restored after). */
  echoConfig(): Record<keyof typeof VSE_CONFIG.fields, number> {
    return this.echoInto(VSE_CONFIG, (out) => this.exports.echoConfig(out));
  }

  /** What the kernel reads from the control block, by field name (the ABI test). */
  echoControl(): Record<keyof typeof VSE_CONTROL.fields, number> {
    return this.echoInto(VSE_CONTROL, (out) => this.exports.echoControl(out));
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
}
