import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SgnsKernelShare } from './sgns-kernel.js';
import type { VseCounters, VseShare } from './vse-kernel.js';

/** The kernels training threads attach to (each learner contributes its own). */
export interface KernelShares {
  vse?: VseShare;
  sgns?: SgnsKernelShare;
}

/** Counters of a skip-gram kernel instance (one thread's). */
export interface SgnsCounters {
  pairs: number;
  draws: number;
  fallbacks: number;
  mixed: number;
  lossSum: number;
}

export interface TrainingThreadInit {
  vse: VseShare | null;
  sgns: SgnsKernelShare | null;
  /** kernel thread index (1..T; 0 is the thread that created the kernels) */
  thread: number;
  /** training threads in all: each asks for rank-table refreshes after 1/T of the cadence */
  threads: number;
  seed: number;
}

/** Work for one thread: its own step list / corpus slot, which the main thread filled. */
export type TrainingCommand =
  | { type: 'images'; count: number; weighted: boolean; lr: number; replay: number; replayLr: number }
  | { type: 'words'; sentences: number; lr: number }
  | { type: 'stop' };

export type TrainingReply =
  | { type: 'done'; images: VseCounters | null; words: SgnsCounters | null; seconds: number }
  | { type: 'error'; message: string };

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/training-threads\.ts$/, '/dist/training-worker.js') : here.replace(/training-threads\.js$/, 'training-worker.js');
}

/**
 * The streaming trainer's SGD threads: T workers attached to the kernels' shared memories
 * (Hogwild), each with its own step list and corpus slot. The main thread keeps Kafka, decoding,
 * vocabularies, checkpoints and publishing; it fills a thread's list or slot, sends it a command
 * and awaits the reply, so its event loop stays free (health and metrics answer) while the SGD
 * runs. One command per thread at a time.
 */
export class TrainingThreads {
  private readonly workers: Worker[];
  private readonly waiting: Array<((r: TrainingReply) => void) | null>;
  private failure: Error | null = null;
  private closing = false;
  /** Latest cumulative counters per thread. */
  readonly images: Array<VseCounters | null>;
  readonly words: Array<SgnsCounters | null>;
  /** Busy seconds per thread since start (for utilisation). */
  readonly busySeconds: number[];

  constructor(init: KernelShares & { threads: number; seed: number }, onFailure: (err: Error) => void) {
    const n = Math.max(1, init.threads);
    this.waiting = new Array<((r: TrainingReply) => void) | null>(n).fill(null);
    this.images = new Array<VseCounters | null>(n).fill(null);
    this.words = new Array<SgnsCounters | null>(n).fill(null);
    this.busySeconds = new Array<number>(n).fill(0);
    this.workers = Array.from({ length: n }, (_, i) => {
      const data: TrainingThreadInit = { vse: init.vse ?? null, sgns: init.sgns ?? null, thread: i + 1, threads: n, seed: init.seed + 7919 * (i + 1) };
      const worker = new Worker(workerPath(), { workerData: data });
      worker.on('message', (m: TrainingReply) => {
        const resolve = this.waiting[i];
        this.waiting[i] = null;
        if (m.type === 'done') {
          this.images[i] = m.images;
          this.words[i] = m.words;
          this.busySeconds[i] += m.seconds;
        }
        resolve?.(m);
      });
      const fail = (err: Error): void => {
        this.failure ??= err;
        const resolve = this.waiting[i];
        this.waiting[i] = null;
        resolve?.({ type: 'error', message: err.message });
        onFailure(err);
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

  /** Kernel thread index of worker i (its list and slot). */
  kernelThread(i: number): number {
    return i + 1;
  }

  /** Runs a command on worker i; rejects if the thread failed. */
  run(i: number, command: TrainingCommand): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.waiting[i] !== null) return Promise.reject(new Error(`training thread ${i + 1} is busy`));
    return new Promise<void>((resolve, reject) => {
      this.waiting[i] = (r) => (r.type === 'error' ? reject(new Error(`training thread ${i + 1}: ${r.message}`)) : resolve());
      this.workers[i].postMessage(command);
    });
  }

  /** Sum of every thread's latest image-label counters. */
  imageCounters(): VseCounters | null {
    return sum(this.images);
  }

  wordCounters(): SgnsCounters | null {
    return sum(this.words);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.workers) w.postMessage({ type: 'stop' } satisfies TrainingCommand);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function sum<T extends object>(items: ReadonlyArray<T | null>): T | null {
  let out: Record<string, number> | null = null;
  for (const item of items) {
    if (item === null) continue;
    const record = item as unknown as Record<string, number>;
    if (out === null) out = { ...record };
    else for (const key of Object.keys(record)) out[key] += record[key];
  }
  return out as T | null;
}
