import type { AvroCodec, EntityKind } from '@freshet/avro';
import type { KernelShares, WorkerPool } from '@freshet/kernels';
import type { Logger } from '@freshet/runtime';
import type { ConsumedRecord } from '@freshet/transport';
import type { Blob } from './checkpoint.js';
import type { DrainScope } from './policies.js';

/** Rows a learner changed since the last drain, to publish as model updates. */
export interface ChangedRows {
  kind: EntityKind;
  /** floats per published vector */
  dim: number;
  names: string[];
  /** names.length x dim float32, row-major (a copy, taken at a batch boundary) */
  vectors: Float32Array;
  /** label biases (score = image · label + bias), one per name; null when the kind has none */
  biases: Float32Array | null;
  /** entities of this kind the model dropped since the last drain (evicted): deleted downstream */
  deleted?: readonly string[];
}

/** A learner's part of a checkpoint (its checkpoint state): a JSON header and named binary blobs. */
export interface LearnerState {
  header: Record<string, unknown>;
  blobs: Record<string, Blob>;
}

/** What a decoded batch carries for the shell's accounting. */
export interface AppliedBatch {
  /** records applied (decoded and trained on) */
  applied: number;
  /** records that could not be decoded or applied (dead-lettered and counted, never fatal) */
  failed: number;
  /** the latest event time among them (ms), 0 if none */
  eventTime: number;
  /** the records that failed, with why (the trainer dead-letters them) */
  rejected?: Array<{ record: ConsumedRecord; code: string; message: string }>;
}

/**
 * One stream's model: how its records are decoded and trained on, which rows changed, and how it
 * is saved and restored. The trainer shell owns everything around it (partitions, offsets,
 * fencing, checkpoint cadence, publishing); each stream's folder (streams/) holds its learner.
 *
 * apply() runs the SGD on training threads and resolves when the batch is fully applied: the
 * shell checkpoints only between batches, so a checkpoint reflects exactly the records before its
 * offsets. exportState() is called at such a boundary and must copy what it returns (writing and
 * publishing happen while training goes on).
 */
export interface Learner {
  /** the metric label of the stream, e.g. 'image-labels' */
  readonly stream: string;
  /** the training topic it consumes */
  readonly topic: string;
  /** Decodes and trains on records of one partition, in order. */
  apply(records: readonly ConsumedRecord[]): Promise<AppliedBatch>;
  /**
   * The rows changed since the last call (copies), and a clean slate. `fresh` (between
   * checkpoints) may hold back rows that only its replay moved, leaving them for the next `all`
   * drain (the checkpoint's, the default): publishing then follows new events, not the replay.
   */
  drainChanged(scope?: DrainScope): ChangedRows[];
  /** Every row it holds, for a full republish after a restore. */
  markAllChanged(): void;
  /** Its model as of now (copies): its part of a full checkpoint. Starts a new increment. */
  exportState(): LearnerState;
  /**
   * What changed since the last export (exportState or exportIncrement): its part of an
   * incremental checkpoint (copies). The rows it changed, with whatever it keeps per row; its
   * small parts whole. Call drainChanged() first at the same boundary: rows reach the increment
   * through it.
   */
  exportIncrement(): LearnerState;
  /** A full state with an increment exported after it folded in: what exportState() would have returned then. */
  mergeIncrement(base: LearnerState, increment: LearnerState): LearnerState;
  /** Loads a checkpoint's state into a fresh learner (before it applies anything). */
  importState(state: LearnerState): void;
  /** Exports its counters and gauges (between batches). */
  exportMetrics(): void;
  /** What it holds, for /healthz and the tests' exactly-once accounting. */
  details(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Decodes a partition's records in bulk and hands each event to `onEvent`, in order; a record
 * that cannot be decoded (ingest validated it, so this is rare) is returned with its reason for
 * the trainer to dead-letter, never fatal.
 */
export async function decodeEvents<T extends { eventTime: number }>(
  codec: AvroCodec<T>,
  records: readonly ConsumedRecord[],
  logger: Logger,
  onEvent: (event: T) => void,
): Promise<AppliedBatch> {
  const decoded = await codec.decodeAll(records.map((r) => r.value));
  const batch: AppliedBatch = { applied: 0, failed: 0, eventTime: 0, rejected: [] };
  for (let j = 0; j < decoded.length; j++) {
    const e = decoded[j];
    if (e instanceof Error) {
      batch.failed++;
      batch.rejected?.push({ record: records[j], code: e.code, message: e.message });
      continue;
    }
    batch.applied++;
    batch.eventTime = Math.max(batch.eventTime, e.eventTime);
    onEvent(e);
  }
  const bad = batch.rejected ?? [];
  // one line per batch, not per record: a run of poison records must not flood the log
  if (bad.length > 0) {
    const r = bad[0].record;
    logger.error(
      {
        topic: r.topic,
        partition: r.partition,
        offsets: [r.offset, bad[bad.length - 1].record.offset],
        count: bad.length,
        codes: [...new Set(bad.map((b) => b.code))],
      },
      'training records that cannot be decoded: dead-lettered',
    );
  }
  return batch;
}

/** A learner whose kernel the training threads attach to: the shell starts them once every learner's kernel exists. */
export interface ThreadedLearner extends Learner {
  /** its kernel's memory, for the threads to attach */
  kernelShares(): KernelShares;
  useThreads(threads: WorkerPool): void;
}
