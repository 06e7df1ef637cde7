import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@freshet/runtime';
import type { Consumer } from '@freshet/transport';
import type { UpdateSink } from '../sinks/sink.js';
import { firstNonFinite, readCheckpointHeader, writeCheckpoint } from './checkpoint.js';
import { claimCheckpointDir } from './owner.js';
import { chainPosition } from './chain.js';
import { CHECKPOINT_FORMAT, INCREMENT_FORMAT, checkpointBlobs, checkpointIdentity, type CheckpointHeader, type PartitionOffset } from './checkpoint-state.js';
import type { ChangedRows, Learner, LearnerState } from './learner.js';
import type { shellMetrics } from './metrics.js';
import type { DrainScope } from './policies.js';
import type { OriginMark } from './replays.js';
import type { SavedSettings } from './settings-check.js';

/** Everything a checkpoint needs, copied at a batch boundary so training can go on meanwhile. */
interface CheckpointCut {
  offsets: PartitionOffset[];
  origins: OriginMark[];
  modelEvents: number;
  eventTime: number;
  learners: Record<string, LearnerState>;
  settings: SavedSettings;
  changed: ChangedRows[];
  applied: number;
  /** the whole model (false: the rows changed since the checkpoint before) */
  full: boolean;
}

/**
 * Checkpoints: the model, its settings and the offsets it reflects, written atomically (temp
 * file, fsync, rename), then the rows changed since the last one are sent to the update sink,
 * then the offsets committed.
 * The state is copied at a batch boundary (take()); writing, publishing and committing then run
 * beside training (write()), one checkpoint at a time.
 *
 * Incremental: a checkpoint is full (the whole model) or an increment (the rows changed since the
 * one before, which stays on disk as `<path>.1`, and so on back to the full one: chain.ts). A
 * full one is written first after a start or a failure, after `fullEvery` increments, and once
 * the increments since the last full one outweigh it (a restore then reads at most about twice a
 * full checkpoint). Durability then costs what changed, not the model's size.
 *
 * The fence: each checkpoint names its writer and sequence. Before writing and again just before
 * the rename, the file on disk must still be the one this instance last restored or wrote;
 * otherwise another instance became the owner and this one steps down without writing.
 */
export class Checkpointer {
  readonly instance = randomUUID();
  private seen: string | null = null;
  private sequence = 0;
  private inFlight: Promise<void> | null = null;
  lastSuccess = 0;
  appliedAtLast = 0;
  failuresInRow = 0;
  /** the next checkpoint must be full: at start (the chain on disk is another process's) and after a failure (an increment's rows were taken and not saved) */
  private forceFull = true;
  /** increments since the last full checkpoint, their bytes, and the last full one's */
  private chain = 0;
  private chainBytes = 0;
  private fullBytes = 0;
  /** checkpoints cut by this instance (the replayed rows' cadence) */
  private taken = 0;

  /** whether the folder is known to be this deployment's (owner.ts) */
  claimed = false;

  constructor(
    private readonly dir: string,
    /** the consumer group of the trainers that own the folder */
    private readonly groupId: string,
    /** checkpoints kept: this one and the ones before it */
    private readonly keep: number,
    /** increments between full checkpoints (0: every checkpoint is full) */
    private readonly fullEvery: number,
    /** the rows only replay moved go out with every this-many-th checkpoint */
    private readonly replayedEvery: number,
    private readonly clusterId: () => string,
    private readonly updates: UpdateSink,
    private readonly m: ReturnType<typeof shellMetrics>,
    private readonly logger: Logger,
    private readonly onFenced: (context: Record<string, unknown>) => void,
  ) {}

  get path(): string {
    return join(this.dir, 'trainer.ckpt');
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** The sequence of the last checkpoint written or restored (stamped on published updates). */
  get version(): number {
    return this.sequence;
  }

  /** Records what was restored: the fence compares the file against it from now on. */
  restored(header: CheckpointHeader | null): void {
    this.seen = checkpointIdentity(header as Record<string, unknown> | null);
    this.sequence = header?.sequence ?? 0;
  }

  /** True while the file on disk is the one this instance last restored or wrote. */
  stillOurs(): boolean {
    const onDisk = checkpointIdentity(readCheckpointHeader(this.path));
    if (onDisk === this.seen) return true;
    this.onFenced({ onDisk, expected: this.seen });
    return false;
  }

  /** Copies the state for a checkpoint; call only between batches (no SGD in flight). */
  take(
    learners: readonly Learner[],
    position: { offsets: PartitionOffset[]; origins: OriginMark[]; modelEvents: number },
    eventTime: number,
    applied: number,
    settings: SavedSettings,
  ): CheckpointCut {
    const full = this.forceFull || this.fullEvery === 0 || this.chain >= this.fullEvery || this.chainBytes >= this.fullBytes;
    const states: Record<string, LearnerState> = {};
    const changed: ChangedRows[] = [];
    // drained first: rows reach an increment through the drain; the replayed rows go out with every replayedEvery-th
    const scope = ++this.taken % Math.max(1, this.replayedEvery) === 0 ? 'all' : 'hold-replayed';
    for (const l of learners) changed.push(...l.drainChanged(scope));
    for (const l of learners) states[l.stream] = full ? l.exportState() : l.exportIncrement();
    return { ...position, eventTime, learners: states, settings, changed, applied, full };
  }

  /** Writes, publishes and commits a cut in the background (a no-op while one is in flight). */
  start(cut: CheckpointCut, consumer: Consumer | null, commit: boolean): Promise<void> {
    this.inFlight ??= this.write(cut, consumer, commit)
      .catch((err: unknown) => {
        this.forceFull = true;
        this.failuresInRow++;
        this.m.checkpointFailures.inc();
        this.logger.error({ err, failuresInRow: this.failuresInRow }, 'checkpoint failed');
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /**
   * Publishes the rows changed since the last drain without a checkpoint, so that snapshots need
   * not wait for one (call only between batches). Shares the checkpoint's slot: a publish and a
   * checkpoint never run at once, so rows reach the topic in the order they were drained. Behind
   * the same fence: an instance that lost ownership publishes nothing. Published rows are
   * at-least-once like every update: after a crash the restored trainer publishes every row again.
   */
  publishChanged(learners: readonly Learner[], eventTime: number, scope: DrainScope): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    const changed: ChangedRows[] = [];
    for (const l of learners) changed.push(...l.drainChanged(scope));
    if (changed.every((g) => g.names.length === 0)) return Promise.resolve();
    this.inFlight = this.send(changed, eventTime)
      .catch((err: unknown) => {
        // the drained rows did not go out: the next checkpoint publishes every row
        for (const l of learners) l.markAllChanged();
        this.logger.warn({ err }, 'publishing changed rows failed; the next checkpoint publishes every row');
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async send(changed: ChangedRows[], eventTime: number): Promise<void> {
    if (this.stillOurs()) await this.publish(changed, eventTime);
  }

  /** Sends rows to the update sink stamped with the current sequence; how many went. A row holding NaN or infinity never leaves. */
  private async publish(changed: readonly ChangedRows[], eventTime: number): Promise<number> {
    const finite = changed.map((g) => withoutNonFinite(g));
    const dropped = changed.reduce((n, g, i) => n + g.names.length - finite[i].names.length, 0);
    if (dropped > 0) {
      this.m.nonFiniteRows.inc(dropped);
      this.logger.error({ dropped }, 'rows holding NaN or infinite values were not published: the model diverged (lower the learning rate, or reset it)');
    }
    const published = await this.updates.writeUpdates(finite, { version: this.sequence, updatedAt: eventTime });
    this.m.published.inc(published);
    return published;
  }

  /** Waits for the checkpoint in flight, if any. */
  async settle(): Promise<void> {
    await this.inFlight;
  }

  private async write(s: CheckpointCut, consumer: Consumer | null, commit: boolean): Promise<void> {
    if (!this.stillOurs()) return;
    // a folder that could not be written at start is claimed now (another group's: this checkpoint fails, saying so)
    this.claimed ||= claimCheckpointDir(this.dir, this.groupId);
    const t0 = performance.now();
    const position = s.full ? 0 : this.chain + 1;
    const header: CheckpointHeader = {
      format: s.full ? CHECKPOINT_FORMAT : INCREMENT_FORMAT,
      ...(s.full ? {} : { increment: { follows: this.seen ?? '', chain: position } }),
      createdAt: Date.now(),
      instance: this.instance,
      sequence: this.sequence + 1,
      clusterId: this.clusterId(),
      offsets: s.offsets,
      eventTimeHighWatermark: s.eventTime,
      modelEvents: s.modelEvents,
      origins: s.origins,
      learners: Object.fromEntries(Object.entries(s.learners).map(([k, v]) => [k, v.header])),
      settings: s.settings,
    };
    const blobs = checkpointBlobs(s.learners);
    // a model that diverged is not saved over the last good one (restoring it would be refused)
    for (const [name, blob] of Object.entries(blobs)) {
      const at = blob instanceof Int32Array ? -1 : firstNonFinite(blob);
      if (at >= 0) throw new Error(`the model holds a non-finite value (${name}[${at}] = ${blob[at]}): the checkpoint is not written, the previous one stays`);
    }
    // an increment keeps its chain back to the full one; a full one keeps the chain it ends as its previous checkpoint
    const depth = Math.max(this.keep, position + 1, this.keep > 1 ? chainPosition(readCheckpointHeader(this.path)) + 2 : 0);
    const bytes = await writeCheckpoint(this.path, header as unknown as Record<string, unknown>, blobs, () => this.stillOurs(), depth);
    if (bytes < 0) return;
    this.forceFull = false;
    this.chain = position;
    this.chainBytes = s.full ? 0 : this.chainBytes + bytes;
    if (s.full) {
      this.fullBytes = bytes;
      this.m.checkpointFullBytes.set(bytes);
    }
    this.m.checkpointsWritten.inc({ kind: s.full ? 'full' : 'increment' });
    this.m.checkpointChain.set(position);
    this.sequence = header.sequence;
    this.seen = checkpointIdentity(header as unknown as Record<string, unknown>);
    const published = await this.publish(s.changed, s.eventTime);
    if (commit && consumer !== null) await consumer.commit(s.offsets);
    this.lastSuccess = Date.now();
    this.appliedAtLast = s.applied;
    this.failuresInRow = 0;
    this.m.checkpointSeconds.observe((performance.now() - t0) / 1000);
    this.m.checkpointBytes.set(bytes);
    this.m.checkpointTime.set(this.lastSuccess / 1000);
    this.logger.info({ bytes, full: s.full, chain: position, published, offsets: s.offsets.length, sequence: this.sequence }, 'checkpoint written');
  }
}

/** The rows of a group whose vector and bias are finite (the group itself when all are). */
function withoutNonFinite(g: ChangedRows): ChangedRows {
  const keep: number[] = [];
  for (let j = 0; j < g.names.length; j++) {
    const bias = g.biases?.[j] ?? 0;
    if (Number.isFinite(bias) && firstNonFinite(g.vectors.subarray(j * g.dim, (j + 1) * g.dim)) < 0) keep.push(j);
  }
  if (keep.length === g.names.length) return g;
  const vectors = new Float32Array(keep.length * g.dim);
  keep.forEach((j, k) => vectors.set(g.vectors.subarray(j * g.dim, (j + 1) * g.dim), k * g.dim));
  return { ...g, names: keep.map((j) => g.names[j]), vectors, biases: g.biases === null ? null : Float32Array.from(keep, (j) => g.biases?.[j] ?? 0) };
}
