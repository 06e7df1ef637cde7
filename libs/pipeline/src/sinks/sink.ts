import type { EmbeddingRecord, EntityKind } from '@freshet/avro';
import type { ChangedRows } from '../trainer/learner.js';

/** When and from what changed rows were sent: the checkpoint sequence and the event-time high watermark. */
export interface UpdateStamp {
  version: number;
  updatedAt: number;
}

/**
 * Where the trainer sends the rows SGD changed (between checkpoints and after each): today the
 * model-updates topic, which the publisher reads. A sink is at-least-once: after a crash the
 * restored trainer sends every row again.
 */
export interface UpdateSink {
  readonly name: string;
  /** Sends the rows and resolves to how many went; rejects if any did not. */
  writeUpdates(rows: readonly ChangedRows[], stamp: UpdateStamp): Promise<number>;
}

/** Rows of one kind copied out for a snapshot chunk. */
export interface RowChunk {
  ids: string[];
  /** ids.length x dim float32, little-endian, row after row */
  vectors: Buffer;
  biases: Float32Array;
  /** the ids whose rows were synthesised (zero-shot labels) */
  zeroShot: string[];
}

/** Every entity's latest row, as a version reads it: counts and dimension per kind, and the rows chunk by chunk. */
export interface VersionState {
  /** the catalogue's kinds, in its order */
  readonly kinds: readonly EntityKind[];
  count(kind: EntityKind): number;
  /** the kind's dimension (0 while it has no rows) */
  dim(kind: EntityKind): number;
  /** every row of the kind, `perChunk` at a time */
  chunks(kind: EntityKind, perChunk: number): Iterable<RowChunk>;
}

/** One version of the model, as the publisher cuts it. */
export interface ModelVersion {
  version: number;
  createdAt: number;
  eventTimeHighWatermark: number;
  /** entities changed since the previous version: their latest record, stamped with this version */
  changed: readonly EmbeddingRecord[];
  /** entities deleted since the previous version (evicted): gone from `state` too */
  deleted: ReadonlyArray<{ kind: EntityKind; id: string }>;
  /** every entity's latest row, by kind (read in place: it does not change while the version is written) */
  state: VersionState;
  /** the model updates it reflects: the next offset not read, per partition of the updates topic */
  updateOffsets: Readonly<Record<string, number>>;
}

/** What a sink wrote of a version (for the publisher's metrics). */
export interface VersionReceipt {
  /** parts the version was cut into (0 for a sink that only upserts) */
  chunks: number;
  bytes: number;
  /** a delta version (only the changes since the version before), not a whole one */
  delta?: boolean;
}

/**
 * Where the publisher writes each version: today the Kafka topics (the compacted latest-vector
 * topic, the chunked snapshot topic and its manifests); a vector index or another topic layout
 * is another implementation and one line in the registry (sinks/index.ts). A sink that keeps
 * only the latest vectors upserts `changed`, deletes `deleted` and ignores the rest. It rejects when the version is
 * not written whole: the publisher keeps the changes for its next attempt.
 */
export interface SnapshotSink {
  readonly name: string;
  writeVersion(version: ModelVersion): Promise<VersionReceipt>;
  close?(): Promise<void>;
}
