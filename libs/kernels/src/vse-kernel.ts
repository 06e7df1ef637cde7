import {
  Matrix,
  PositiveStore,
  emptyStats,
  imageLabelWidth,
  refreshCadence,
  type ImageLabelConfig,
  type ImageLabelStorage,
  type PairSet,
  type SamplerStats,
  Rng,
} from '@freshet/core';
import { MemoryLayout, drainFlags } from './memory.js';
import { heapBase, instantiate } from './modules.js';
import { AsyncTableRefresher, CTRL, SwappableRankTables, TableRefreshClient, tablesStaleness, type TableMaintainer, type TableRegions } from './tables.js';

/**
 * The `auto` sampler's switch: uniform negatives below this many labels, WARP from there. Chosen
 * from the convergence runs (3 seeds each): at 38 labels (MIRFLICKR-25k) uniform reached
 * LightFM's best P@5 first and WARP never did; at 374 (Corel5k) and 5,000 (synthetic) WARP
 * reached it first or with the better P@5 and MAP.
 */
export const AUTO_SAMPLER_LABELS = 100;

/** The negative samplers the kernel runs (the TypeScript reference has the same ones). */
export interface VseSamplerSpec {
  /**
   * uniform source (with candidates > 1: dynamic negative sampling), WARP, the rank tables, or
   * auto: uniform below `autoLabels` labels and WARP from there (what won the convergence
   * benchmark on each side: README, "Learning core")
   */
  kind: 'uniform' | 'warp' | 'adaptive' | 'auto';
  /** auto: the label count from which WARP replaces uniform (default AUTO_SAMPLER_LABELS) */
  autoLabels?: number;
  /** candidates scored per draw, the hardest kept (1: the plain sampler) */
  candidates: number;
  /** WARP: cap on draws per step (Infinity: |A| - 1) */
  maxSampled: number;
  /** adaptive: λ as a fraction of the labels (or `lambda` in rank units) */
  lambdaFraction: number;
  lambda?: number;
  /** adaptive: share of uniform draws mixed in */
  mixShare: number;
  /** adaptive: redraws after positives before the uniform fallback */
  maxRetries: number;
  /** adaptive: draws between table refreshes (default ceil(|A| ln |A|)) */
  refreshEvery?: number;
  /** adaptive: refresh on a thread of its own, never stopping training for a sort */
  asyncRefresh?: boolean;
}

export interface VseSpec {
  config: ImageLabelConfig;
  /** room for observed pairs (offline: all of them; streaming: the replay memory) */
  pairCapacity: number;
  /** room for positive label ids (default 16 per image of the cap) */
  positiveSlots?: number;
  /** room for explicit pairs per trainList call, per thread */
  listCapacity?: number;
  /** threads that will attach (each gets its own list region) */
  threads?: number;
  /** keep a changed-row flag per image and label (the streaming trainer publishes those rows) */
  trackChanges?: boolean;
  sampler: VseSamplerSpec;
}

interface VseExports {
  configure(dim: number, cols: number, rowBytes: number, u: number, v: number, gu: number, gv: number, posHdr: number, posArena: number, pairs: number, harm: number, ctrl: number, bias: number, margin: number, reg: number, dirtyImages: number, dirtyLabels: number): void;
  configureSampler(mode: number, candidates: number, maxSampled: number, mix: number, retries: number, autoLabels: number): void;
  scoreLabels(i: number, out: number): void;
  seed(a: number, b: number, c: number, d: number): void;
  trainRandom(count: number, lr: number, drawLimit: number): number;
  trainList(list: number, weights: number, count: number, lr: number): void;
  sampleNegatives(i: number, a: number, count: number, out: number): void;
  drawRandom(count: number, drawLimit: number): number;
  counters(which: number): number;
}

interface VseLayout {
  width: number;
  ctrl: number;
  u: number;
  v: number;
  gu: number;
  gv: number;
  posHdr: number;
  posArena: number;
  positiveSlots: number;
  pairs: number;
  harm: number;
  tables: [number, number];
  sigma: [number, number];
  lists: number;
  listCapacity: number;
  threads: number;
  dirtyImages: number;
  dirtyLabels: number;
  /** f32 per label: scoreLabels' output (thread 0) */
  scores: number;
}

/** The regions of a kernel memory for a spec (they depend on the spec alone: every thread computes the same). */
function layoutOf(spec: VseSpec): { layout: VseLayout; regions: MemoryLayout } {
  const c = spec.config;
  const width = imageLabelWidth(c);
  const rb = width * 4;
  const adagrad = c.optimizer === 'adagrad';
  const adaptive = spec.sampler.kind === 'adaptive';
  const cols = c.dim + (c.labelBias ? 1 : 0);
  const positiveSlots = spec.positiveSlots ?? c.imageCap * 16;
  const listCapacity = spec.listCapacity ?? 4096;
  const threads = spec.threads ?? 1;
  const m = new MemoryLayout('the image-label model', heapBase('vse'));
  const layout: VseLayout = {
    width,
    ctrl: m.take('control', 64),
    u: m.take('image vectors', c.imageCap * rb),
    v: m.take('label vectors', c.labelCap * rb),
    gu: adagrad ? m.take('image AdaGrad sums', c.imageCap * rb) : 0,
    gv: adagrad ? m.take('label AdaGrad sums', c.labelCap * rb) : 0,
    posHdr: m.take('positive headers', c.imageCap * 8),
    posArena: m.take('positive labels', positiveSlots * 4),
    positiveSlots,
    pairs: m.take('pairs', spec.pairCapacity * 8),
    harm: m.take('WARP weights', (c.labelCap + 1) * 4),
    tables: [adaptive ? m.take('rank tables', cols * c.labelCap * 4) : 0, adaptive ? m.take('rank tables (second buffer)', cols * c.labelCap * 4) : 0],
    sigma: [m.take('sigma', rb), m.take('sigma (second buffer)', rb)],
    lists: m.take('step lists', threads * listCapacity * 12),
    listCapacity,
    threads,
    dirtyImages: spec.trackChanges === true ? m.take('changed images', c.imageCap) : 0,
    dirtyLabels: spec.trackChanges === true ? m.take('changed labels', c.labelCap) : 0,
    scores: m.take('label scores', c.labelCap * 4),
  };
  return { layout, regions: m };
}

/** What a Hogwild worker receives to attach to the same memory. */
export interface VseShare {
  spec: VseSpec;
  memory: WebAssembly.Memory;
}

export interface VseCounters extends SamplerStats {
  steps: number;
  updates: number;
  lossSum: number;
}

const MODES = { uniform: 0, warp: 1, adaptive: 2, auto: 3 } as const;

/**
 * The image-label model's SGD step in WebAssembly SIMD (assembly/vse.ts) over a memory that holds
 * the whole model: vectors, AdaGrad sums, positives, the pair set, WARP's weights and the rank
 * tables. `storage` exposes it to an ImageLabelModel, which keeps the vocabularies and fills rows
 * and positives as names arrive; the kernel reads what the control block says exists.
 *
 * The rank tables are double-buffered: a refresh writes the buffer not in use and then switches
 * the control block to it, so a refresh never disturbs draws in flight on other threads.
 */
export class VseKernel {
  readonly storage: ImageLabelStorage;
  private readonly exports: VseExports;
  private readonly ctrl: Int32Array;
  private readonly tables: TableMaintainer | null;
  private drawsAtRefresh = 0;
  /** Hogwild: the refreshing thread sees only its own draws, so with T threads it refreshes after 1/T of the interval. */
  refreshDivisor = 1;
  private readonly listOffset: number;
  private readonly list: Int32Array;
  private readonly weights: Float32Array;
  private pairHead = 0;

  private constructor(
    readonly spec: VseSpec,
    readonly memory: WebAssembly.Memory,
    private readonly layout: VseLayout,
    thread: number,
    seed: number,
  ) {
    const c = spec.config;
    const L = layout;
    const buffer = memory.buffer;
    this.exports = instantiate<VseExports>('vse', memory);
    const cols = c.dim + (c.labelBias ? 1 : 0);
    this.exports.configure(c.dim, cols, L.width * 4, L.u, L.v, L.gu, L.gv, L.posHdr, L.posArena, L.pairs, L.harm, L.ctrl, c.labelBias ? 1 : 0, c.margin, c.reg, L.dirtyImages, L.dirtyLabels);
    const s = spec.sampler;
    const maxSampled = Number.isFinite(s.maxSampled) ? Math.max(1, Math.floor(s.maxSampled)) : 0x7fffffff;
    this.exports.configureSampler(MODES[s.kind], Math.max(1, Math.floor(s.candidates)), maxSampled, s.mixShare, s.maxRetries, s.autoLabels ?? AUTO_SAMPLER_LABELS);
    const rng = new Rng(seed);
    this.exports.seed(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
    this.ctrl = new Int32Array(buffer, L.ctrl, 16);
    const f32 = (offset: number, rows: number): Matrix => new Matrix(L.width, 0, { data: new Float32Array(buffer, offset, rows * L.width), fixed: true });
    this.storage = {
      imageVectors: f32(L.u, c.imageCap),
      labelVectors: f32(L.v, c.labelCap),
      imageAccumulators: L.gu !== 0 ? f32(L.gu, c.imageCap) : null,
      labelAccumulators: L.gv !== 0 ? f32(L.gv, c.labelCap) : null,
      positives: new PositiveStore({ header: new Int32Array(buffer, L.posHdr, 2 * c.imageCap), arena: new Int32Array(buffer, L.posArena, L.positiveSlots) }, false),
    };
    this.tables = tableMaintainer(memory, spec, L, thread);
    this.listOffset = L.lists + thread * L.listCapacity * 12;
    this.list = new Int32Array(buffer, this.listOffset, 2 * L.listCapacity);
    this.weights = new Float32Array(buffer, this.listOffset + L.listCapacity * 8, L.listCapacity);
  }

  /** Lays out a new memory for the spec's caps (address space only until rows are written). */
  static create(spec: VseSpec, seed: number): VseKernel {
    const { layout, regions } = layoutOf(spec);
    const memory = regions.allocate();
    const kernel = new VseKernel(spec, memory, layout, 0, seed);
    const harm = new Float32Array(memory.buffer, layout.harm, spec.config.labelCap + 1);
    for (let j = 1; j <= spec.config.labelCap; j++) harm[j] = harm[j - 1] + 1 / j;
    return kernel;
  }

  /** Another thread's view of an existing kernel memory (thread >= 1). */
  static attach(share: VseShare, thread: number, seed: number): VseKernel {
    return new VseKernel(share.spec, share.memory, layoutOf(share.spec).layout, thread, seed);
  }

  share(): VseShare {
    return { spec: this.spec, memory: this.memory };
  }

  /** Tells the kernel how many labels and images exist (after the model grew). */
  setSizes(labels: number, images: number): void {
    Atomics.store(this.ctrl, 0, labels);
    Atomics.store(this.ctrl, 1, images);
  }

  /** Replaces the pair set that trainRandom draws from (offline training). */
  setPairs(pairs: PairSet): void {
    if (pairs.length > this.spec.pairCapacity) throw new Error(`vse kernel: ${pairs.length} pairs exceed the reserved ${this.spec.pairCapacity}`);
    const at = new Int32Array(this.memory.buffer, this.layout.pairs, 2 * pairs.length);
    for (let p = 0; p < pairs.length; p++) {
      at[2 * p] = pairs.images[p];
      at[2 * p + 1] = pairs.labels[p];
    }
    Atomics.store(this.ctrl, 2, pairs.length);
    this.pairHead = pairs.length % Math.max(1, this.spec.pairCapacity);
  }

  /** Adds a pair to the replay memory (a ring: the oldest pair is overwritten when full). */
  remember(image: number, label: number): void {
    const cap = this.spec.pairCapacity;
    const at = new Int32Array(this.memory.buffer, this.layout.pairs + this.pairHead * 8, 2);
    at[0] = image;
    at[1] = label;
    this.pairHead = (this.pairHead + 1) % cap;
    if (this.ctrl[2] < cap) Atomics.store(this.ctrl, 2, this.ctrl[2] + 1);
  }

  get pairCount(): number {
    return this.ctrl[2];
  }

  /** λ in rank units for n labels. */
  private lambdaFor(n: number): number {
    const s = this.spec.sampler;
    return s.lambda ?? Math.max(1e-6, s.lambdaFraction * n);
  }

  private refreshInterval(): number {
    const n = this.ctrl[0];
    const every = this.spec.sampler.refreshEvery ?? refreshCadence(n);
    return every / this.refreshDivisor;
  }

  /** True when the rank tables have served their interval of draws (or were never built). */
  get refreshDue(): boolean {
    if (this.tables === null) return false;
    return this.ctrl[CTRL.size] === 0 || this.exports.counters(3) - this.drawsAtRefresh >= this.refreshInterval();
  }

  /**
   * Rebuilds the rank tables from the current label vectors (the buffer not in use, then a swap),
   * inline or on the refresher thread. The cadence counts from when the refresh was asked for.
   */
  refreshTables(): void {
    if (this.tables === null) return;
    const n = this.ctrl[0];
    if (this.tables.request(n, this.lambdaFor(n))) this.drawsAtRefresh = this.exports.counters(3);
  }

  /** Draws this thread may make before the tables fall due (no limit while a refresh is in flight). */
  private drawLimit(): number {
    if (this.tables === null || this.tables.busy) return Number.MAX_VALUE;
    return Math.max(1, this.drawsAtRefresh + this.refreshInterval() - this.exports.counters(3));
  }

  /** Rank-table refreshes and their seconds. */
  get refreshStats(): { refreshes: number; seconds: number } {
    return this.tables === null ? { refreshes: 0, seconds: 0 } : { refreshes: this.tables.refreshes, seconds: this.tables.refreshSeconds };
  }

  /** Staleness of the tables in use (share of adjacent pairs out of order now). */
  staleness(sampleDims: number, rng: Rng): number {
    return this.spec.sampler.kind !== 'adaptive' ? 0 : tablesStaleness(this.memory, tableRegions(this.spec, this.layout), sampleDims, (k) => rng.nextInt(k));
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

  /** `count` negative draws, each for a random observed pair, without training (the sampler-cost benchmark); refreshes on cadence. */
  drawRandom(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.refreshDue) this.refreshTables();
      left -= this.exports.drawRandom(left, this.drawLimit());
    }
  }

  /** Steps on explicit (image, label) pairs with per-pair gradient weights (streaming events). */
  trainList(images: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number> | null, lr: number): void {
    const cap = this.layout.listCapacity;
    for (let start = 0; start < images.length; start += cap) {
      const n = Math.min(cap, images.length - start);
      for (let j = 0; j < n; j++) {
        this.list[2 * j] = images[start + j];
        this.list[2 * j + 1] = labels[start + j];
        if (weights !== null) this.weights[j] = weights[start + j];
      }
      if (this.refreshDue) this.refreshTables();
      this.exports.trainList(this.listOffset, weights === null ? 0 : this.listOffset + cap * 8, n, lr);
    }
  }

  /**
   * Scores of every label for an image (SIMD, bias included): a view valid until the next call,
   * on one thread (the one that evaluates). The held-out evaluation ranks them.
   */
  scoreLabels(image: number): Float32Array {
    this.exports.scoreLabels(image, this.layout.scores);
    return new Float32Array(this.memory.buffer, this.layout.scores, this.ctrl[0]);
  }

  /** Sets the kernel's random stream (parity tests start it where a TypeScript Rng is). */
  setRngState(state: readonly [number, number, number, number]): void {
    this.exports.seed(state[0], state[1], state[2], state[3]);
  }

  /** Draws negatives for (image, positive) with the configured sampler, without training (tests). */
  sampleNegatives(image: number, positive: number, count: number): Int32Array {
    const out = new Int32Array(count);
    const cap = this.layout.listCapacity * 2;
    for (let start = 0; start < count; start += cap) {
      const n = Math.min(cap, count - start);
      this.exports.sampleNegatives(image, positive, n, this.listOffset);
      out.set(this.list.subarray(0, n), start);
    }
    return out;
  }

  counters(): VseCounters {
    const e = this.exports;
    const r = this.refreshStats;
    return {
      ...emptyStats(),
      steps: e.counters(0),
      updates: e.counters(1),
      lossSum: e.counters(2),
      draws: e.counters(3),
      rejections: e.counters(4),
      fallbacks: e.counters(5),
      mixed: e.counters(6),
      candidatesScored: e.counters(7),
      noViolator: e.counters(8),
      refreshes: r.refreshes,
      refreshSeconds: r.seconds,
    };
  }
}

/** The rank-table regions of a kernel memory laid out for `spec`. */
function tableRegions(spec: VseSpec, L: VseLayout): TableRegions {
  const c = spec.config;
  return { ctrl: L.ctrl, tables: L.tables, sigma: L.sigma, dims: c.dim + (c.labelBias ? 1 : 0), stride: c.labelCap, items: L.v, width: L.width };
}

/**
 * Who keeps the rank tables fresh on this thread: with asyncRefresh, thread 0 starts the
 * refresher and every thread asks it when its share of the cadence is due; otherwise thread 0
 * refreshes inline and the others only read.
 */
function tableMaintainer(memory: WebAssembly.Memory, spec: VseSpec, L: VseLayout, thread: number): TableMaintainer | null {
  if (spec.sampler.kind !== 'adaptive') return null;
  const regions = tableRegions(spec, L);
  if (spec.sampler.asyncRefresh === true) return thread === 0 ? new AsyncTableRefresher(memory, regions) : new TableRefreshClient(memory, regions);
  return thread === 0 ? new SwappableRankTables(memory, regions) : null;
}
