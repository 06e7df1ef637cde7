import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { RankTables } from '@freshet/core';

/**
 * Control-block slots (int32 / float32 index) both kernels read the rank tables through. A
 * kernel reads them at the start of every call, so a swap takes effect at the next call.
 */
export const CTRL = { tables: 3, sigma: 4, size: 5, stride: 6, lambda: 7, request: 8, requestSize: 9, requestLambda: 10, refreshes: 11, seconds: 6 /* float64 index: bytes 48-55 */ } as const;

/** Where a kernel keeps its two table buffers and the rows they rank. */
export interface TableRegions {
  ctrl: number;
  tables: [number, number];
  sigma: [number, number];
  /** dimensions with a list (bias lane included) */
  dims: number;
  /** items per list reserved (the vocabulary cap) */
  stride: number;
  /** the ranked rows: byte offset, floats per row */
  items: number;
  width: number;
}

/**
 * Double-buffered rank tables in a kernel's memory: a refresh rebuilds the buffer not in use from
 * the current item vectors, then points the control block at it (Atomics), so draws in flight on
 * any thread keep reading a complete table. One instance per memory does the refreshing (inline
 * on the training thread, or in the refresher worker), since each buffer re-sorts from its own
 * previous order.
 */
/** Who keeps a kernel's rank tables fresh: the training thread inline, or a refresher thread. */
export interface TableMaintainer {
  /** Asks for a refresh of items[0..n) with λ (rank units); false when none could start now. */
  request(n: number, lambda: number): boolean;
  /** True while a refresh is in flight (never, inline). */
  readonly busy: boolean;
  readonly refreshes: number;
  readonly refreshSeconds: number;
  close(): Promise<void>;
}

/** Share of adjacent pairs, over sampled dimensions, that the current vectors order differently from the tables in use. */
export function tablesStaleness(memory: WebAssembly.Memory, regions: TableRegions, sampleDims: number, pick: (dims: number) => number): number {
  const ctrl = new Int32Array(memory.buffer, regions.ctrl, 16);
  const n = Atomics.load(ctrl, CTRL.size);
  if (n < 2) return 0;
  const ids = new Int32Array(memory.buffer, Atomics.load(ctrl, CTRL.tables), regions.dims * regions.stride);
  const items = new Float32Array(memory.buffer, regions.items, n * regions.width);
  const w = regions.width;
  let inverted = 0;
  let pairs = 0;
  for (let d = 0; d < Math.min(sampleDims, regions.dims); d++) {
    const f = pick(regions.dims);
    const base = f * regions.stride;
    for (let r = 1; r < n; r++) {
      if (items[ids[base + r] * w + f] > items[ids[base + r - 1] * w + f]) inverted++;
      pairs++;
    }
  }
  return inverted / pairs;
}

export class SwappableRankTables implements TableMaintainer {
  private readonly buffers: [RankTables, RankTables];
  private readonly ctrl: Int32Array;
  private readonly ctrlF: Float32Array;
  private front = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly regions: TableRegions,
  ) {
    const buffer = memory.buffer;
    const table = (b: 0 | 1): RankTables =>
      new RankTables(regions.dims, { ids: new Int32Array(buffer, regions.tables[b], regions.dims * regions.stride), stride: regions.stride, sigma: new Float32Array(buffer, regions.sigma[b], regions.width) }, false);
    this.buffers = [table(0), table(1)];
    this.ctrl = new Int32Array(buffer, regions.ctrl, 16);
    this.ctrlF = new Float32Array(buffer, regions.ctrl, 16);
    this.ctrl[CTRL.stride] = regions.stride;
  }

  readonly busy = false;

  request(n: number, lambda: number): boolean {
    this.refresh(n, lambda);
    return n >= 2;
  }

  async close(): Promise<void> {
    // nothing runs beside the caller
  }

  /** Rebuilds the back buffer for items[0..n) with λ (rank units), then swaps it in. */
  refresh(n: number, lambda: number): void {
    if (n < 2) return;
    const back = (1 - this.front) as 0 | 1;
    const items = new Float32Array(this.memory.buffer, this.regions.items, n * this.regions.width);
    this.buffers[back].refresh(items, this.regions.width, n, 10 * lambda + 1);
    this.ctrlF[CTRL.lambda] = lambda;
    Atomics.store(this.ctrl, CTRL.tables, this.regions.tables[back]);
    Atomics.store(this.ctrl, CTRL.sigma, this.regions.sigma[back]);
    Atomics.store(this.ctrl, CTRL.size, n);
    this.front = back;
  }

  get refreshes(): number {
    return this.buffers[0].refreshes + this.buffers[1].refreshes;
  }

  get refreshSeconds(): number {
    return this.buffers[0].refreshSeconds + this.buffers[1].refreshSeconds;
  }
}

/** The refresher's request slot: idle, being filled in by a client, refresh now, or stop. */
const IDLE = 0;
const REFRESH = 1;
const ASKING = 2;
const STOP = -1;

function refresherPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/tables\.ts$/, '/dist/refresher-worker.js') : here.replace(/tables\.js$/, 'refresher-worker.js');
}

/**
 * Asks the refresher thread for refreshes through the control block: usable from any thread that
 * trains on the memory (each asks when its share of the cadence is due).
 */
export class TableRefreshClient implements TableMaintainer {
  protected readonly ctrl: Int32Array;
  private readonly ctrlF: Float32Array;
  private readonly ctrlD: Float64Array;

  constructor(memory: WebAssembly.Memory, regions: TableRegions) {
    this.ctrl = new Int32Array(memory.buffer, regions.ctrl, 16);
    this.ctrlF = new Float32Array(memory.buffer, regions.ctrl, 16);
    this.ctrlD = new Float64Array(memory.buffer, regions.ctrl, 8);
  }

  /** True while a refresh is being made. */
  get busy(): boolean {
    return Atomics.load(this.ctrl, CTRL.request) !== IDLE;
  }

  /** Asks for a refresh of items[0..n) with λ; false (nothing asked) while one is in flight. */
  request(n: number, lambda: number): boolean {
    if (n < 2 || Atomics.compareExchange(this.ctrl, CTRL.request, IDLE, ASKING) !== IDLE) return false;
    this.ctrl[CTRL.requestSize] = n;
    this.ctrlF[CTRL.requestLambda] = lambda;
    Atomics.store(this.ctrl, CTRL.request, REFRESH);
    Atomics.notify(this.ctrl, CTRL.request);
    return true;
  }

  get refreshes(): number {
    return Atomics.load(this.ctrl, CTRL.refreshes);
  }

  get refreshSeconds(): number {
    return this.ctrlD[CTRL.seconds];
  }

  /** Waits for a refresh in flight (tests and orderly shutdown). */
  settle(): void {
    for (;;) {
      const state = Atomics.load(this.ctrl, CTRL.request);
      if (state === IDLE || state === STOP) return;
      Atomics.wait(this.ctrl, CTRL.request, state, 50);
    }
  }

  async close(): Promise<void> {
    // the refresher belongs to the thread that started it
  }
}

/**
 * Rank-table refreshes on a thread of their own, so training never waits for a sort: a training
 * thread asks for a refresh through the control block (Atomics.notify) when one is due and keeps
 * drawing from the tables in use; the refresher rebuilds the back buffer and swaps it in. The
 * request and the swap go through shared memory, not messages, so a training loop that never
 * yields to the event loop still sees them. While a refresh is in flight, further requests wait:
 * the tables are at most one refresh stale.
 */
export class AsyncTableRefresher extends TableRefreshClient {
  private readonly worker: Worker;

  constructor(memory: WebAssembly.Memory, regions: TableRegions) {
    super(memory, regions);
    this.worker = new Worker(refresherPath(), { workerData: { memory, regions } });
    this.worker.unref();
  }

  override async close(): Promise<void> {
    this.settle();
    Atomics.store(this.ctrl, CTRL.request, STOP);
    Atomics.notify(this.ctrl, CTRL.request);
    await this.worker.terminate();
  }
}

/** The refresher thread's loop (refresher-worker.ts runs it). */
export function serveRefreshes(memory: WebAssembly.Memory, regions: TableRegions): void {
  const tables = new SwappableRankTables(memory, regions);
  const ctrl = new Int32Array(memory.buffer, regions.ctrl, 16);
  const ctrlF = new Float32Array(memory.buffer, regions.ctrl, 16);
  const ctrlD = new Float64Array(memory.buffer, regions.ctrl, 8);
  for (;;) {
    const state = Atomics.load(ctrl, CTRL.request);
    if (state === STOP) return;
    if (state !== REFRESH) {
      // idle, or a client is filling in its request: sleep until the slot changes
      Atomics.wait(ctrl, CTRL.request, state);
      continue;
    }
    tables.refresh(ctrl[CTRL.requestSize], ctrlF[CTRL.requestLambda]);
    ctrlD[CTRL.seconds] = tables.refreshSeconds;
    Atomics.store(ctrl, CTRL.refreshes, tables.refreshes);
    Atomics.store(ctrl, CTRL.request, IDLE);
    Atomics.notify(ctrl, CTRL.request);
  }
}
