import { Counter, Gauge, Histogram, type Registry } from '@freshet/runtime';
import { damagedCheckpointPolicies } from './policies.js';

/**
 * The registry's metric of that name, or a new one: several processors in one process (the
 * embedded demo) and several learners in one trainer share a registry and each metric once.
 */
export function registerMetric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const counter = (registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> =>
  registerMetric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
const gauge = (registry: Registry, name: string, help: string, labelNames: string[]): Gauge<string> =>
  registerMetric(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));

/** Counters every learner's sampler and SGD report, as cumulative totals from the kernels. */
export interface LearnerTotals {
  updates: number;
  lossSum: number;
  draws: number;
  rejections: number;
  fallbacks: number;
  mixed: number;
  refreshes: number;
  refreshSeconds: number;
}

/** One learner's metrics (its `stream` label on shared series). */
export function learnerMetrics(registry: Registry, stream: string) {
  const updates = counter(registry, 'freshet_trainer_sgd_updates_total', 'SGD updates applied (image-label steps with an active hinge; skip-gram pairs).', [
    'stream',
  ]);
  const loss = gauge(
    registry,
    'freshet_trainer_loss',
    'Mean loss per update since start (hinge for image-labels, negative-sampling log loss for text-windows).',
    ['stream'],
  );
  const draws = counter(registry, 'freshet_sampler_draws_total', 'Negative draws.', ['stream', 'sampler']);
  const fallbacks = counter(registry, 'freshet_sampler_fallbacks_total', 'Adaptive draws that fell back to the fallback sampler after maxRetries rejections.', [
    'stream',
  ]);
  const rejections = counter(registry, 'freshet_sampler_rejections_total', 'Candidate negatives rejected as positives and redrawn.', ['stream']);
  const mixed = counter(
    registry,
    'freshet_sampler_mixed_draws_total',
    'Draws taken from the mixed-in fallback share or for rows added since the last refresh.',
    ['stream'],
  );
  const refreshes = counter(registry, 'freshet_rank_table_refreshes_total', 'Rank-table rebuilds (on the refresher thread; training does not wait for them).', [
    'stream',
  ]);
  const refreshSeconds = counter(registry, 'freshet_rank_table_refresh_seconds_total', 'Seconds spent rebuilding rank tables.', ['stream']);
  const stalenessGauge = gauge(
    registry,
    'freshet_rank_table_staleness_ratio',
    'Share of adjacent rank-table pairs the current vectors order differently (0 right after a refresh).',
    ['stream'],
  );
  let stalenessAt = 0;
  const size = gauge(registry, 'freshet_vocabulary_size', 'Entities with a vector, by kind.', ['kind']);
  const refused = counter(registry, 'freshet_vocabulary_refused_total', 'Names refused because the vocabulary cap was reached.', ['kind']);
  const evicted = counter(
    registry,
    'freshet_vocabulary_evicted_total',
    'Entities evicted at the cap to make room for new ones (least recently seen first); deleted downstream.',
    ['kind'],
  );
  const positivesRefused = counter(
    registry,
    'freshet_positives_refused_total',
    'Image-label pairs the kernel could not record as positives (its reserved positive arena is full).',
    [],
  );
  for (const c of [updates, fallbacks, rejections, mixed, refreshes, refreshSeconds]) c.inc({ stream }, 0);
  const seen = new Map<string, number>();
  const delta = (key: string, total: number): number => {
    const before = seen.get(key) ?? 0;
    seen.set(key, total);
    return Math.max(0, total - before);
  };
  return {
    stream,
    updates,
    loss,
    draws,
    fallbacks,
    rejections,
    mixed,
    refreshes,
    refreshSeconds,
    /** sets the staleness gauge from `measure` (it scans table columns: every few seconds is plenty) */
    staleness(measure: () => number): void {
      if (Date.now() - stalenessAt < 5000) return;
      stalenessAt = Date.now();
      stalenessGauge.set({ stream }, measure());
    },
    delta,
    /** a vocabulary's size and its refusals since start */
    vocabulary(kind: string, entities: number, refusedSoFar: number): void {
      size.set({ kind }, entities);
      refused.inc({ kind }, delta(`refused.${kind}`, refusedSoFar));
    },
    /** evictions since start, by kind */
    evicted(kind: string, soFar: number): void {
      evicted.inc({ kind }, delta(`evicted.${kind}`, soFar));
    },
    positivesRefused(total: number): void {
      positivesRefused.inc(delta('positives', total));
    },
  };
}

/** Exports a learner's cumulative kernel totals as counter increments. */
export function exportSampler(m: ReturnType<typeof learnerMetrics>, sampler: string, t: LearnerTotals): void {
  const stream = m.stream;
  m.updates.inc({ stream }, m.delta('updates', t.updates));
  if (t.updates > 0) m.loss.set({ stream }, t.lossSum / t.updates);
  m.draws.inc({ stream, sampler }, m.delta('draws', t.draws));
  m.fallbacks.inc({ stream }, m.delta('fallbacks', t.fallbacks));
  m.rejections.inc({ stream }, m.delta('rejections', t.rejections));
  m.mixed.inc({ stream }, m.delta('mixed', t.mixed));
  m.refreshes.inc({ stream }, m.delta('refreshes', t.refreshes));
  m.refreshSeconds.inc({ stream }, m.delta('refreshSeconds', t.refreshSeconds));
}

/** The shell's own metrics: events, ownership, checkpoints, publishing, freshness inputs. */
export function shellMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'freshet_trainer_events_total',
      help: 'Training records consumed, by stream and outcome.',
      labelNames: ['stream', 'outcome'],
      registers,
    }),
    active: new Gauge({
      name: 'freshet_trainer_active',
      help: '1 while this instance owns the training partitions and trains, 0 while it stands by.',
      registers,
    }),
    checkpointSeconds: new Histogram({
      name: 'freshet_checkpoint_duration_seconds',
      help: 'Time to write a checkpoint (snapshot at a batch boundary, write, fsync, publish, commit).',
      buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      registers,
    }),
    checkpointBytes: new Gauge({ name: 'freshet_checkpoint_size_bytes', help: 'Size of the last checkpoint (full or increment).', registers }),
    checkpointsWritten: new Counter({
      name: 'freshet_checkpoints_written_total',
      help: 'Checkpoints written, by kind: full (the whole model) or increment (the rows changed since the one before).',
      labelNames: ['kind'],
      registers,
    }),
    checkpointFullBytes: new Gauge({
      name: 'freshet_checkpoint_full_size_bytes',
      help: "Size of the last full checkpoint: the whole model on disk (the trainer's model bytes).",
      registers,
    }),
    checkpointChain: new Gauge({
      name: 'freshet_checkpoint_chain_length',
      help: 'Increments since the last full checkpoint: files a restore reads after the full one.',
      registers,
    }),
    checkpointTime: new Gauge({
      name: 'freshet_checkpoint_last_success_timestamp_seconds',
      help: 'When the last checkpoint was written (unix seconds; 0: none yet). Its age is the work a crash would redo.',
      registers,
    }),
    checkpointFailures: new Counter({
      name: 'freshet_checkpoint_failures_total',
      help: 'Checkpoints that failed (disk full, permissions, ...); training goes on, the next one is tried on cadence.',
      registers,
    }),
    published: new Counter({ name: 'freshet_trainer_updates_published_total', help: 'Changed vectors sent to the model-updates topic.', registers }),
    eventTime: new Gauge({
      name: 'freshet_trainer_event_time_high_watermark_seconds',
      help: 'Latest event time applied to the model (unix seconds).',
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'freshet_trainer_batch_duration_seconds',
      help: 'Time to decode and train on one consumed batch.',
      buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
      registers,
    }),
    lastApplied: new Gauge({
      name: 'freshet_trainer_last_applied_timestamp_seconds',
      help: 'When the trainer last applied a record (unix seconds; 0: none yet).',
      registers,
    }),
    threadBusy: new Gauge({
      name: 'freshet_trainer_thread_busy_seconds',
      help: 'Seconds each training thread spent on SGD since start (a counter per thread).',
      labelNames: ['thread'],
      registers,
    }),
    damagedCheckpoints: new Counter({
      name: 'freshet_checkpoint_damaged_total',
      help: 'Checkpoints found damaged on restore (checksum, truncation, non-finite values), by the policy applied.',
      labelNames: ['policy'],
      registers,
    }),
    nonFiniteRows: new Counter({
      name: 'freshet_trainer_nonfinite_rows_total',
      help: 'Changed rows not published because they hold NaN or infinite values (the model diverged).',
      registers,
    }),
    logRestarts: new Counter({
      name: 'freshet_trainer_log_restarts_total',
      help: 'Raw partitions whose log started over (a new epoch: topic recreated, truncated or offsets reset); their events are trained as new, by training topic.',
      labelNames: ['topic'],
      registers,
    }),
    staleCheckpoints: new Counter({
      name: 'freshet_checkpoint_stale_total',
      help: 'Restored checkpoints whose offsets did not belong to the log (handled per --on-stale-checkpoint).',
      labelNames: ['reason'],
      registers,
    }),
  };
}

/** Every series an alert or a dashboard reads exists from the start at 0 (an absent series and a zero look different in PromQL). */
export function showZeroSeries(m: ReturnType<typeof shellMetrics>, learners: ReadonlyArray<{ stream: string; topic: string }>): void {
  for (const l of learners) for (const outcome of ['applied', 'failed', 'replay']) m.events.inc({ stream: l.stream, outcome }, 0);
  for (const policy of damagedCheckpointPolicies) m.damagedCheckpoints.inc({ policy }, 0);
  for (const l of learners) m.logRestarts.inc({ topic: l.topic }, 0);
}
