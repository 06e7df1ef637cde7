import { Worker } from 'node:worker_threads';
import type { KernelCounters, KernelJobs, KernelName, KernelShares } from './drivers.js';
import { workerEntry } from './entry.js';

/** What a training worker receives: the kernels to attach and its place among the threads. */
export interface TrainingThreadInit {
  role: 'training';
  shares: KernelShares;
  /** kernel thread index (1..workers; 0 is the thread that created the kernels) */
  thread: number;
  /** threads that draw from the same rank tables: each asks for a refresh after 1/T of the cadence */
  trainingThreads: number;
  seed: number;
}

/** A job for one worker: which kernel, and its work. */
export type PoolJob = { [N in KernelName]: { kernel: N; work: KernelJobs[N] } }[KernelName];

export type PoolMessage = { type: 'run'; job: PoolJob } | { type: 'stop' };

export type PoolReply = { type: 'done'; counters: Partial<KernelCounters>; seconds: number } | { type: 'error'; message: string };

export interface PoolOptions {
  shares: KernelShares;
  /** worker threads to start */
  workers: number;
  /** threads that train on these kernels in all (offline the calling thread trains too) */
  trainingThreads: number;
  seed: number;
  /** a worker failed (its job rejects too): the streaming trainer stops on it */
  onFailure?: (err: Error) => void;
}

/**
 * The one pool of SGD threads, offline and live: `workers` threads attached to the kernels'
 * shared memories (Hogwild), each running one job at a time and replying with its counters. The
 * pool owns the slot rule: worker i is kernel thread i + 1 (its step list, corpus slot and ABI
 * blocks), thread 0 being the one that created the kernels. Callers fill a worker's list or slot,
 * then run a job on it and await it, so the main thread's event loop stays free meanwhile.
 */
export class WorkerPool {
  private readonly workers: Worker[];
  private readonly waiting: Array<((r: PoolReply) => void) | null>;
  private readonly latest: Array<Partial<KernelCounters>>;
  private failure: Error | null = null;
  private closing = false;
  /** Busy seconds per worker since start (for utilisation). */
  readonly busySeconds: number[];

  constructor(opts: PoolOptions) {
    const n = Math.max(0, opts.workers);
    this.waiting = new Array<((r: PoolReply) => void) | null>(n).fill(null);
    this.latest = Array.from({ length: n }, () => ({}));
    this.busySeconds = new Array<number>(n).fill(0);
    this.workers = Array.from({ length: n }, (_, i) => {
      const init: TrainingThreadInit = {
        role: 'training',
        shares: opts.shares,
        thread: this.kernelThread(i),
        trainingThreads: opts.trainingThreads,
        seed: opts.seed + 7919 * (i + 1),
      };
      const worker = new Worker(workerEntry(), { workerData: init });
      worker.on('message', (m: PoolReply) => {
        const resolve = this.waiting[i];
        this.waiting[i] = null;
        if (m.type === 'done') {
          this.latest[i] = m.counters;
          this.busySeconds[i] += m.seconds;
        }
        resolve?.(m);
      });
      const fail = (err: Error): void => {
        this.failure ??= err;
        const resolve = this.waiting[i];
        this.waiting[i] = null;
        resolve?.({ type: 'error', message: err.message });
        opts.onFailure?.(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        // terminate() ends a thread with code 1: only an exit nobody asked for is a failure
        if (!this.closing && this.failure === null) fail(new Error(`training thread ${i + 1} exited with code ${code}`));
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** The kernel thread worker i is: its list, slot and blocks. */
  kernelThread(i: number): number {
    return i + 1;
  }

  /** Runs a job on worker i; rejects if the thread failed. */
  run(i: number, job: PoolJob): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.waiting[i] !== null) return Promise.reject(new Error(`training thread ${i + 1} is busy`));
    return new Promise<void>((resolve, reject) => {
      this.waiting[i] = (r) => (r.type === 'error' ? reject(new Error(`training thread ${i + 1}: ${r.message}`)) : resolve());
      this.workers[i].postMessage({ type: 'run', job } satisfies PoolMessage);
    });
  }

  /** Every worker's latest totals for a kernel, summed (null before any reported). */
  counters<N extends KernelName>(kernel: N): KernelCounters[N] | null {
    return sumRecords(this.latest.map((c) => c[kernel] ?? null));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.workers) w.postMessage({ type: 'stop' } satisfies PoolMessage);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Field-wise sums of records of numbers (null when there is none). */
export function sumRecords<T extends object>(items: ReadonlyArray<T | null | undefined>): T | null {
  let out: Record<string, number> | null = null;
  for (const item of items) {
    if (item === null || item === undefined) continue;
    const record = item as unknown as Record<string, number>;
    if (out === null) out = { ...record };
    else for (const key of Object.keys(record)) out[key] += record[key];
  }
  return out as T | null;
}
