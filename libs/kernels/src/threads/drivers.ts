import { SgnsKernel } from '../sgns/kernel.js';
import { trainEpochsShare, type EpochsShare } from '../sgns/epochs.js';
import type { SgnsCounters, SgnsShare } from '../sgns/spec.js';
import { VseKernel } from '../vse/kernel.js';
import type { VseCounters, VseShare } from '../vse/spec.js';

/**
 * The kernel registry: what a worker thread can attach to, the work it runs on each, and the
 * totals it reports. A new kernel is one entry here (its share, job and counters), not a new
 * worker file or command type.
 */
export interface KernelShares {
  vse?: VseShare;
  sgns?: SgnsShare;
}

/** Image-label work for one thread: its own step list (filled by the main thread), then steps on random remembered pairs. */
export interface VseJob {
  list?: { count: number; weighted: boolean; lr: number };
  random?: { steps: number; lr: number };
}

/** Skip-gram work for one thread: the sentences in its own corpus slot (streaming), or its share of an offline corpus. */
export type SgnsJob = { type: 'own-slot'; sentences: number; lr: number } | ({ type: 'epochs' } & EpochsShare);

export interface KernelJobs {
  vse: VseJob;
  sgns: SgnsJob;
}

export interface KernelCounters {
  vse: VseCounters;
  sgns: SgnsCounters;
}

export type KernelName = keyof KernelJobs;

/** A kernel attached on one thread. */
export interface AttachedKernel<N extends KernelName> {
  run(job: KernelJobs[N]): void;
  counters(): KernelCounters[N];
}

interface Driver<N extends KernelName> {
  /** Attaches as kernel thread `thread`; `trainingThreads` draw from the same rank tables. */
  attach(share: NonNullable<KernelShares[N]>, thread: number, trainingThreads: number, seed: number): AttachedKernel<N>;
}

export const kernelDrivers: { readonly [N in KernelName]: Driver<N> } = {
  vse: {
    attach(share, thread, trainingThreads, seed) {
      const kernel = VseKernel.attach(share, thread, seed);
      kernel.shareCadence(trainingThreads);
      return {
        run(job) {
          if (job.list !== undefined && job.list.count > 0) kernel.trainOwnList(job.list.count, job.list.weighted, job.list.lr);
          if (job.random !== undefined && job.random.steps > 0) kernel.trainRandom(job.random.steps, job.random.lr);
        },
        counters: () => kernel.counters(),
      };
    },
  },
  sgns: {
    attach(share, thread, trainingThreads, seed) {
      // the skip-gram stream of a thread is offset from its image-label stream
      const kernel = SgnsKernel.attach(share, thread, seed + 1);
      kernel.shareCadence(trainingThreads);
      return {
        run(job) {
          if (job.type === 'own-slot') for (let s = 0; s < job.sentences;) s = kernel.train(thread, s, job.sentences, job.lr).next;
          else trainEpochsShare(kernel, job);
        },
        counters: () => {
          const c = kernel.counters();
          return { pairs: c.pairs, draws: c.draws, fallbacks: c.fallbacks, mixed: c.mixed, lossSum: c.lossSum };
        },
      };
    },
  },
};

export const KERNEL_NAMES = Object.keys(kernelDrivers) as KernelName[];
