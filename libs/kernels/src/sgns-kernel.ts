import './webassembly.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AliasTable, Rng, keepProbabilities, partialSortIdsByKeyDesc } from '@freshet/core';

/** Everything the kernel needs to lay out its memory; identical in every Hogwild worker. */
export interface SgnsKernelSpec {
  dim: number;
  vocabSize: number;
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
  corpusLength: number;
  sentences: number;
  maxSentence: number;
  threads: number;
}

interface Layout {
  k4: number;
  input: number;
  output: number;
  prob: number;
  alias: number;
  keep: number;
  corpus: number;
  starts: number;
  sig: number;
  tables: number;
  sigma: number;
  /** per-thread scratch: neu1e f32[k4], cum f32[k4], sentence i32[maxSentence] */
  scratch: number;
  scratchBytes: number;
  bytes: number;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

function layout(spec: SgnsKernelSpec, heapBase: number): Layout {
  const k4 = Math.ceil(spec.dim / 4) * 4;
  const v = spec.vocabSize;
  let at = align(heapBase);
  const take = (bytes: number): number => {
    const start = at;
    at = align(at + bytes);
    return start;
  };
  const input = take(v * k4 * 4);
  const output = take(v * k4 * 4);
  const prob = take(v * 4);
  const alias = take(v * 4);
  const keep = take(v * 4);
  const corpus = take(spec.corpusLength * 4);
  const starts = take((spec.sentences + 1) * 4);
  const sig = take(1001 * 4);
  const tables = take(spec.sampler === 'adaptive' ? spec.dim * v * 4 : 0);
  const sigma = take(k4 * 4);
  const scratchBytes = align(k4 * 8 + spec.maxSentence * 4);
  const scratch = take(scratchBytes * spec.threads);
  return { k4, input, output, prob, alias, keep, corpus, starts, sig, tables, sigma, scratch, scratchBytes, bytes: at };
}

interface KernelExports {
  heapBase(): number;
  configure(k4: number, dim: number, v: number, inOff: number, outOff: number, probOff: number, aliasOff: number, keepOff: number, corpusOff: number, startsOff: number, sigOff: number, window: number, negatives: number, subsample: number): void;
  configureScratch(neu1e: number, sen: number, cum: number): void;
  configureAdaptive(mode: number, tables: number, tv: number, sigma: number, lambda: number, mix: number, retries: number): void;
  seed(a: number, b: number, c: number, d: number): void;
  train(from: number, to: number, lr: number, drawLimit: number): number;
  wordsTrained(): number;
  counters(which: number): number;
}

let compiled: WebAssembly.Module | null = null;

/** The compiled kernel (built by `npm run build:wasm` into libs/kernels/build/). */
export function kernelModule(): WebAssembly.Module {
  if (compiled === null) {
    const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'sgns.wasm');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`WebAssembly kernel missing at ${path}: run npm run build (it compiles libs/kernels/assembly)`);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** What a Hogwild worker receives to attach to the same memory. */
export interface SgnsKernelShare {
  spec: SgnsKernelSpec;
  memory: WebAssembly.Memory;
}

/**
 * A skip-gram trainer whose sentence loop runs in WebAssembly SIMD. The main thread creates it
 * (allocating one shared memory and filling the corpus, vectors and tables); Hogwild workers
 * attach to the same memory with `attach`, each with its own scratch slot and RNG.
 */
export class SgnsKernel {
  readonly layout: Layout;
  private readonly exports: KernelExports;
  private drawsAtRefresh = 0;
  /**
   * Hogwild: the refreshing thread sees only its own draws, so with T threads it refreshes after
   * 1/T of the interval to keep the cadence in total draws.
   */
  refreshDivisor = 1;
  /** Only one Hogwild thread refreshes the shared tables; the others never stop early for it. */
  refresher = true;
  refreshes = 0;
  refreshSeconds = 0;

  private constructor(
    readonly spec: SgnsKernelSpec,
    readonly memory: WebAssembly.Memory,
    thread: number,
    seed: number,
    tablesReady: boolean,
  ) {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory } });
    this.exports = instance.exports as unknown as KernelExports;
    this.layout = layout(spec, this.exports.heapBase());
    const L = this.layout;
    this.exports.configure(L.k4, spec.dim, spec.vocabSize, L.input, L.output, L.prob, L.alias, L.keep, L.corpus, L.starts, L.sig, spec.window, spec.negatives, spec.sample > 0 ? 1 : 0);
    const scratch = L.scratch + thread * L.scratchBytes;
    this.exports.configureScratch(scratch, scratch + L.k4 * 8, scratch + L.k4 * 4);
    const rng = new Rng(seed);
    this.exports.seed(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
    const mode = spec.sampler === 'adaptive' ? 1 : 0;
    this.exports.configureAdaptive(mode, L.tables, tablesReady ? spec.vocabSize : 0, L.sigma, Math.max(1e-6, spec.lambdaFraction * spec.vocabSize), spec.mixShare, 10);
  }

  /** Lays out a new shared memory and fills it from the corpus and the initial vectors. */
  static create(
    spec: SgnsKernelSpec,
    data: { ids: Int32Array; starts: Int32Array; counts: ArrayLike<number>; input: Float32Array; output: Float32Array },
    seed: number,
  ): SgnsKernel {
    const probe = new WebAssembly.Instance(kernelModule(), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }) } });
    const heapBase = (probe.exports as unknown as KernelExports).heapBase();
    const bytes = layout(spec, heapBase).bytes;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536), maximum: 65536, shared: true });
    const kernel = new SgnsKernel(spec, memory, 0, seed, false);
    kernel.fill(data);
    return kernel;
  }

  /** A worker's view of an existing kernel memory (thread >= 1). */
  static attach(share: SgnsKernelShare, thread: number, seed: number): SgnsKernel {
    return new SgnsKernel(share.spec, share.memory, thread, seed, true);
  }

  share(): SgnsKernelShare {
    return { spec: this.spec, memory: this.memory };
  }

  private f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  private i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  private fill(data: { ids: Int32Array; starts: Int32Array; counts: ArrayLike<number>; input: Float32Array; output: Float32Array }): void {
    const { spec, layout: L } = this;
    const v = spec.vocabSize;
    const k = spec.dim;
    const input = this.f32(L.input, v * L.k4);
    const output = this.f32(L.output, v * L.k4);
    for (let r = 0; r < v; r++) {
      for (let f = 0; f < k; f++) {
        input[r * L.k4 + f] = data.input[r * k + f];
        output[r * L.k4 + f] = data.output[r * k + f];
      }
    }
    const weights = new Float64Array(v);
    for (let i = 0; i < v; i++) weights[i] = Math.pow(data.counts[i], spec.alpha);
    new AliasTable(weights).exportTo(this.f32(L.prob, v), this.i32(L.alias, v));
    this.f32(L.keep, v).set(keepProbabilities(data.counts, spec.sample));
    this.i32(L.corpus, spec.corpusLength).set(data.ids);
    this.i32(L.starts, spec.sentences + 1).set(data.starts);
    const sig = this.f32(L.sig, 1001);
    for (let i = 0; i <= 1000; i++) {
      const x = (i / 1000) * 12 - 6;
      sig[i] = 1 / (1 + Math.exp(-x));
    }
    if (spec.sampler === 'adaptive') {
      const tables = this.i32(L.tables, k * v);
      for (let f = 0; f < k; f++) for (let r = 0; r < v; r++) tables[f * v + r] = r;
      this.refreshTables();
    }
  }

  /**
   * Trains sentences from [from, to) at learning rate lr until the adaptive tables fall due;
   * returns the next sentence to train and the raw words trained.
   */
  train(from: number, to: number, lr: number): { next: number; words: number } {
    const limit = this.spec.sampler === 'adaptive' && this.refresher ? Math.max(1, this.drawsUntilRefresh()) : Number.MAX_VALUE;
    const next = this.exports.train(from, to, lr, limit);
    return { next, words: this.exports.wordsTrained() };
  }

  private refreshInterval(): number {
    const v = this.spec.vocabSize;
    const every = this.spec.refreshEvery > 0 ? this.spec.refreshEvery : Math.ceil(v * Math.log(v));
    return every / this.refreshDivisor;
  }

  private drawsUntilRefresh(): number {
    return this.drawsAtRefresh + this.refreshInterval() - this.exports.counters(1);
  }

  /** True when the adaptive tables have served their refresh interval of draws. */
  get refreshDue(): boolean {
    return this.spec.sampler === 'adaptive' && this.refresher && this.drawsUntilRefresh() <= 0;
  }

  /** Column-major copy of the output vectors, reused across refreshes. */
  private columns: Float32Array = new Float32Array(0);

  /**
   * Re-sorts every dimension's list from its previous order and recomputes σ (std). The vectors
   * are first transposed with one sequential pass: gathering a dimension's keys straight from
   * the row-major matrix missed the cache on every read and made refreshes 5-10x slower.
   */
  refreshTables(): void {
    const t0 = performance.now();
    const { spec, layout: L } = this;
    const v = spec.vocabSize;
    const k = spec.dim;
    const output = this.f32(L.output, v * L.k4);
    if (this.columns.length !== k * v) this.columns = new Float32Array(k * v);
    const cols = this.columns;
    for (let r = 0; r < v; r++) {
      const base = r * L.k4;
      for (let f = 0; f < k; f++) cols[f * v + r] = output[base + f];
    }
    const keys = new Float32Array(v);
    const sigma = this.f32(L.sigma, L.k4);
    // only ranks below 10λ are ever drawn in practice (p = e^-10 beyond): sort just both ends
    const exact = Math.min(v, Math.ceil(10 * spec.lambdaFraction * v) + 1);
    for (let f = 0; f < k; f++) {
      const off = f * v;
      const ids = this.i32(L.tables + off * 4, v);
      for (let r = 0; r < v; r++) keys[r] = cols[off + ids[r]];
      partialSortIdsByKeyDesc(ids, keys, v, exact);
      let sum = 0;
      let sq = 0;
      for (let r = 0; r < v; r++) {
        const x = cols[off + r];
        sum += x;
        sq += x * x;
      }
      const mean = sum / v;
      sigma[f] = Math.sqrt(Math.max(0, sq / v - mean * mean));
    }
    this.exports.configureAdaptive(1, L.tables, v, L.sigma, Math.max(1e-6, spec.lambdaFraction * v), spec.mixShare, 10);
    this.drawsAtRefresh = this.exports.counters(1);
    this.refreshes++;
    this.refreshSeconds += (performance.now() - t0) / 1000;
  }

  /** Copies the trained vectors out (dim columns, padding dropped). */
  readVectors(which: 'input' | 'output', into: Float32Array): void {
    const { spec, layout: L } = this;
    const src = this.f32(which === 'input' ? L.input : L.output, spec.vocabSize * L.k4);
    for (let r = 0; r < spec.vocabSize; r++) for (let f = 0; f < spec.dim; f++) into[r * spec.dim + f] = src[r * L.k4 + f];
  }

  counters(): { pairs: number; draws: number; fallbacks: number; mixed: number; loss: number } {
    const e = this.exports;
    const pairs = e.counters(0);
    const measured = e.counters(5);
    return { pairs, draws: e.counters(1), fallbacks: e.counters(2), mixed: e.counters(3), loss: measured > 0 ? e.counters(4) / measured : 0 };
  }
}
