import { WorkerPool, type KernelShares } from '@freshet/kernels';
import type { SettingValue } from '@freshet/runtime';
import type { Codecs } from '../catalogue.js';
import type { ConsumedRecord } from '@freshet/transport';
import type { AppliedBatch, Learner, ThreadedLearner } from './learner.js';
import type { shellMetrics } from './metrics.js';
import type { ReplayFilter } from './replays.js';
import type { TrainerOptions } from './settings.js';

/** One learner per stream of the catalogue, with its settings resolved over the stream's defaults. */
export function createLearners(opts: TrainerOptions, codecs: Codecs): { learners: ThreadedLearner[]; settings: Record<string, Record<string, SettingValue>> } {
  const t = opts.topics;
  const settings: Record<string, Record<string, SettingValue>> = {};
  const learners = t.streams.map((stream, i) => {
    const own = stream.settings.with(opts.streams?.[stream.name] ?? {});
    settings[stream.name] = own;
    // one seed per stream, in registry order (image-labels the trainer's seed, text-windows the next)
    return stream.createLearner({
      stream: stream.name,
      topic: t.train(stream),
      codec: codecs.train(stream),
      settings: own,
      metrics: opts.metrics,
      logger: opts.logger,
      threads: opts.threads,
      seed: opts.seed + i,
    });
  });
  return { learners, settings };
}

/** The SGD threads every learner trains on: live, the main thread keeps Kafka, so every SGD thread is a worker. */
export function startPool(learners: readonly ThreadedLearner[], opts: Pick<TrainerOptions, 'threads' | 'seed'>, onFailure: (err: Error) => void): WorkerPool {
  const shares: KernelShares = Object.assign({}, ...learners.map((l) => l.kernelShares())) as KernelShares;
  const pool = new WorkerPool({ shares, workers: opts.threads, trainingThreads: opts.threads, seed: opts.seed, onFailure });
  for (const l of learners) l.useThreads(pool);
  return pool;
}

/**
 * Applies one partition's records to its learner: the copies an ingest instance forwarded again
 * after dying before its commit are dropped (applied once already), and every outcome is counted.
 */
export async function applyFresh(
  learner: Learner,
  records: readonly ConsumedRecord[],
  replays: ReplayFilter,
  m: ReturnType<typeof shellMetrics>,
): Promise<{ fresh: number; eventTime: number; rejected: NonNullable<AppliedBatch['rejected']> }> {
  const fresh = replays.admit(records);
  m.events.inc({ stream: learner.stream, outcome: 'replay' }, records.length - fresh.length);
  const r = fresh.length > 0 ? await learner.apply(fresh) : { applied: 0, failed: 0, eventTime: 0 };
  m.events.inc({ stream: learner.stream, outcome: 'applied' }, r.applied);
  if (r.failed > 0) m.events.inc({ stream: learner.stream, outcome: 'failed' }, r.failed);
  return { fresh: fresh.length, eventTime: r.eventTime, rejected: r.rejected ?? [] };
}
