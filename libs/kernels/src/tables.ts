import { Worker } from 'node:worker_threads';
import { RankTables } from '@freshet/core';
import { RANK_TABLE_CONTROL, type RankTableField } from './abi.js';
import { BlockView } from './blocks.js';
import { workerEntry } from './threads/entry.js';

/**
 * The rank-table fields of a kernel's control block (both kernels' blocks start with them). A
 * kernel reads them at the start of every call, so a swap takes effect at the next call.
 */
function control(memory: WebAssembly.Memory, regions: TableRegions): BlockView<RankTableField> {
  return new BlockView(RANK_TABLE_CONTROL, memory.buffer, regions.ctrl);
}

/** Where a kernel keeps its two table buffers and the rows they rank. */
export interface TableRegions {
  /** byte offset of the kernel's control block */
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

/**
 * Who keeps a kernel's rank tables fresh on this thread: with `async`, thread 0 starts the
 * refresher and every thread asks it when its share of the cadence is due; otherwise thread 0
 * refreshes inline and the others only read.
 */
export function tableMaintainer(memory: WebAssembly.Memory, regions: TableRegions, thread: number, async: boolean): TableMaintainer | null {
  if (async) return thread === 0 ? new AsyncTableRefresher(memory, regions) : new TableRefreshClient(memory, regions);
  return thread === 0 ? new SwappableRankTables(memory, regions) : null;
}

/** Share of adjacent pairs, over sampled dimensions, that the current vectors order differently from the tables in use. */
export function tablesStaleness(memory: WebAssembly.Memory, regions: TableRegions, sampleDims: number, pick: (dims: number) => number): number {
  const ctrl = control(memory, regions);
  const n = ctrl.load('tableSize');
  if (n < 2) return 0;
  const ids = new Int32Array(memory.buffer, ctrl.load('tables'), regions.dims * regions.stride);
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

/**
 * Double-buffered rank tables in a kernel's memory: a refresh rebuilds the buffer not in use from
 * the current item vectors, then points the control block at it (Atomics), so draws in flight on
 * any thread keep reading a complete table. One instance per memory does the refreshing (inline
 * on the training thread, or in the refresher worker), since each buffer re-sorts from its own
 * previous order.
 */
export class SwappableRankTables implements TableMaintainer {
  private readonly buffers: [RankTables, RankTables];
  private readonly ctrl: BlockView<RankTableField>;
  private front = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly regions: TableRegions,
  ) {
    const buffer = memory.buffer;
    const table = (b: 0 | 1): RankTables =>
      new RankTables(
        regions.dims,
        {
          ids: new Int32Array(buffer, regions.tables[b], regions.dims * regions.stride),
          stride: regions.stride,
          sigma: new Float32Array(buffer, regions.sigma[b], regions.width),
        },
        false,
      );
    this.buffers = [table(0), table(1)];
    this.ctrl = control(memory, regions);
    this.ctrl.store('tableStride', regions.stride);
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
    this.ctrl.set('lambda', lambda);
    this.ctrl.store('tables', this.regions.tables[back]);
    this.ctrl.store('sigma', this.regions.sigma[back]);
    this.ctrl.store('tableSize', n);
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
const STOP = 3;

/**
 * Asks the refresher thread for refreshes through the control block: usable from any thread that
 * trains on the memory (each asks when its share of the cadence is due).
 */
export class TableRefreshClient implements TableMaintainer {
  protected readonly ctrl: BlockView<RankTableField>;

  constructor(memory: WebAssembly.Memory, regions: TableRegions) {
    this.ctrl = control(memory, regions);
  }

  /** True while a refresh is being made. */
  get busy(): boolean {
    return this.ctrl.load('refreshRequest') !== IDLE;
  }

  /** Asks for a refresh of items[0..n) with λ; false (nothing asked) while one is in flight. */
  request(n: number, lambda: number): boolean {
    if (n < 2 || this.ctrl.compareExchange('refreshRequest', IDLE, ASKING) !== IDLE) return false;
    this.ctrl.set('requestSize', n);
    this.ctrl.set('requestLambda', lambda);
    this.ctrl.store('refreshRequest', REFRESH);
    this.ctrl.notify('refreshRequest');
    return true;
  }

  get refreshes(): number {
    return this.ctrl.load('refreshes');
  }

  get refreshSeconds(): number {
    return this.ctrl.get('refreshSeconds');
  }

  /** Waits for a refresh in flight (tests and orderly shutdown). */
  settle(): void {
    for (;;) {
      const state = this.ctrl.load('refreshRequest');
      if (state === IDLE || state === STOP) return;
      this.ctrl.wait('refreshRequest', state, 50);
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
    this.worker = new Worker(workerEntry(), { workerData: { role: 'refresher', memory, regions } satisfies RefresherInit });
    this.worker.unref();
  }

  override async close(): Promise<void> {
    this.settle();
    this.ctrl.store('refreshRequest', STOP);
    this.ctrl.notify('refreshRequest');
    await this.worker.terminate();
  }
}

/** What the one worker entry receives to run as a refresher. */
export interface RefresherInit {
  role: 'refresher';
  memory: WebAssembly.Memory;
  regions: TableRegions;
}

/** The refresher thread's loop (the worker entry runs it for the refresher role). */
export function serveRefreshes({ memory, regions }: RefresherInit): void {
  const tables = new SwappableRankTables(memory, regions);
  const ctrl = control(memory, regions);
  for (;;) {
    const state = ctrl.load('refreshRequest');
    if (state === STOP) return;
    if (state !== REFRESH) {
      // idle, or a client is filling in its request: sleep until the slot changes
      ctrl.wait('refreshRequest', state);
      continue;
    }
    tables.refresh(ctrl.get('requestSize'), ctrl.get('requestLambda'));
    ctrl.set('refreshSeconds', tables.refreshSeconds);
    ctrl.store('refreshes', tables.refreshes);
    ctrl.store('refreshRequest', IDLE);
    ctrl.notify('refreshRequest');
  }
}
