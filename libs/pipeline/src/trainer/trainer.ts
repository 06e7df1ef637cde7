import type { WorkerPool } from '@freshet/kernels';
import type { Batch, Consumer, ConsumerState, Producer, TopicPartition } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { DeadLetters } from '../dead-letters.js';
import { LagMonitor } from '../lag.js';
import { KafkaUpdateSink } from '../sinks/kafka-updates.js';
import type { PartitionOffset } from './checkpoint-state.js';
import { Checkpointer } from './checkpointer.js';
import type { Learner, ThreadedLearner } from './learner.js';
import { shellMetrics, showZeroSeries } from './metrics.js';
import { applyFresh, createLearners, startPool } from './learners.js';
import { claimCheckpointDir } from './owner.js';
import { Positions } from './positions.js';
import { ReplayFilter, reportLogChange } from './replays.js';
import type { StaleOffset } from './restore.js';
import { resumeFromCheckpoint } from './resume.js';
import type { SavedSettings } from './settings-check.js';
import { trainerSettings, type TrainerOptions } from './settings.js';

export type { TrainerOptions } from './settings.js';

/**
 * The trainer: one shell around one learner per stream of the catalogue. The shell owns
 * partition ownership (an exclusive group: one active instance, the others stand by), the
 * offsets each learner's model reflects, the split-brain fence, the checkpoint cadence and
 * publishing; a learner decodes and trains its stream on the SGD threads. A checkpoint holds
 * every learner's model, its settings and the offsets together, so each record is applied
 * exactly once to the surviving model.
 */
export class Trainer {
  readonly learners: ThreadedLearner[];
  private readonly byTopic: Map<string, Learner>;
  private readonly settings: SavedSettings;
  private threads: WorkerPool | null = null;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private lag: LagMonitor | null = null;
  private timer: NodeJS.Timeout | null = null;
  private updatesTimer: NodeJS.Timeout | null = null;
  private readonly checkpointer: Checkpointer;
  private readonly deadLetters: DeadLetters;
  private readonly m: ReturnType<typeof shellMetrics>;
  private readonly positions = new Positions();
  private owner = false;
  private everOwned = false;
  private restoring: Promise<void> | null = null;
  private applying = false;
  private running = false;
  private consumerUp = false;
  private clusterId = '';
  private readonly replays = new ReplayFilter((c) => reportLogChange(c, this.m.logRestarts, this.opts.logger));
  eventTimeHighWatermark = 0;
  /** training records consumed by this process (replays included) */
  applied = 0;
  /** events applied to the model since it was empty, across restarts (restored from the checkpoint) */
  modelEvents = 0;

  constructor(private readonly opts: TrainerOptions) {
    const t = opts.topics;
    const codecs = new Codecs(opts.registry, t);
    const built = createLearners(opts, codecs);
    this.learners = built.learners;
    this.settings = { trainer: trainerSettings.pick(opts), streams: built.settings };
    this.byTopic = new Map(this.learners.map((l) => [l.topic, l]));
    this.m = shellMetrics(opts.metrics);
    this.deadLetters = new DeadLetters(codecs.deadLetters(), t.deadLetters, 'trainer');
    const updates = opts.updates ?? new KafkaUpdateSink(() => this.producer, t.modelUpdates, codecs.modelUpdates());
    this.checkpointer = new Checkpointer(
      opts.checkpointDir,
      opts.groupId,
      opts.keepCheckpoints,
      opts.checkpointFullEvery,
      opts.replayedRowsEvery,
      () => this.clusterId,
      updates,
      this.m,
      opts.logger,
      (context) => this.stepDown(context, 'another trainer wrote the checkpoint since this one last did: it is the owner now; stepping down without writing'),
    );
    showZeroSeries(this.m, this.learners);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Ready: running, the consumer up, not restoring, checkpoints succeeding (after three failures in a row nothing is committed). */
  get isReady(): boolean {
    return this.running && this.consumerUp && this.restoring === null && this.checkpointer.failuresInRow < 3;
  }

  /** restoring: the owner, loading its checkpoint (nothing is applied until it is done) */
  get role(): 'active' | 'standby' | 'restoring' {
    return !this.owner ? 'standby' : this.restoring !== null ? 'restoring' : 'active';
  }

  /** When the last checkpoint succeeded (ms; 0: none), and failures since. */
  get checkpointHealth(): { lastSuccess: number; failuresInRow: number } {
    return { lastSuccess: this.checkpointer.lastSuccess, failuresInRow: this.checkpointer.failuresInRow };
  }

  /** The learner of a stream, as its own class (tests and tools read its model). */
  learnerOf<L extends Learner>(stream: string, type: abstract new (...args: never[]) => L): L {
    const l = this.learners.find((x) => x.stream === stream);
    if (!(l instanceof type)) throw new Error(`the trainer has no ${stream} learner of that type`);
    return l;
  }

  async start(): Promise<void> {
    this.checkpointer.claimed = claimCheckpointDir(this.opts.checkpointDir, this.opts.groupId);
    this.threads = startPool(this.learners, this.opts, (err) => this.fatal(err));
    this.producer = await this.opts.transport.producer();
    const admin = await this.opts.transport.admin();
    this.clusterId = await admin.clusterId();
    await admin.close();
    const topics = this.learners.map((l) => l.topic);
    this.consumer = await this.opts.transport.consumer({
      groupId: this.opts.groupId,
      topics,
      fromBeginning: true,
      exclusive: true,
      onAssignment: (a) => this.assigned(a),
    });
    this.running = true;
    this.consumerUp = true;
    // a standby owns nothing and reports no lag; the owner's positions are the checkpoint's after a restore
    this.lag = new LagMonitor({
      transport: this.opts.transport,
      topics,
      positions: () => this.next,
      registry: this.opts.metrics,
      owned: () => (this.owner ? (this.consumer?.assignment() ?? []) : []),
    });
    await this.lag.start();
    // when the stream pauses, the last events still reach a checkpoint and the publisher
    this.timer = setInterval(() => this.maybeCheckpoint(), Math.min(1000, this.opts.checkpointEveryMs)).unref();
    // changed rows reach the publisher between checkpoints: freshness need not wait for a checkpoint
    if (this.opts.updatesEveryMs > 0) this.updatesTimer = setInterval(() => this.maybePublishRows(), this.opts.updatesEveryMs).unref();
    if (this.consumer.assignment().length > 0 && !this.owner) this.assigned(this.consumer.assignment());
    void this.consumer
      .run((batch) => this.handle(batch))
      .catch((err: unknown) => {
        this.consumerUp = false;
        this.fatal(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /** Ownership changes. Becoming the owner the first time restores the checkpoint into the untouched models. */
  private assigned(assigned: TopicPartition[]): void {
    const owns = assigned.length > 0;
    if (owns && !this.owner) {
      this.owner = true;
      this.m.active.set(1);
      this.opts.logger.info({ partitions: assigned.length }, 'trainer is the active instance');
      if (!this.everOwned) {
        this.everOwned = true;
        this.restoring = this.restore()
          .catch((err: unknown) => this.fatal(err instanceof Error ? err : new Error(String(err))))
          .finally(() => {
            this.restoring = null;
          });
      }
    } else if (!owns && this.owner) {
      this.stepDown({}, 'trainer lost its partitions to another instance; its model is no longer the one to extend');
    }
  }

  private stepDown(context: Record<string, unknown>, why: string): void {
    if (!this.owner) return;
    this.owner = false;
    this.m.active.set(0);
    this.opts.logger.error(context, why);
    this.opts.onOwnershipLost?.();
  }

  private fatal(err: Error): void {
    this.opts.logger.error({ err }, 'trainer cannot go on');
    this.running = false;
    this.opts.onFatal?.(err);
  }

  /** Restores the checkpoint (checked against the log) and positions every partition at its offsets. */
  private async restore(): Promise<void> {
    const onStale = (stale: StaleOffset[]): void => stale.forEach((x) => this.m.staleCheckpoints.inc({ reason: x.reason }));
    const onDamaged = (): void => this.m.damagedCheckpoints.inc({ policy: this.opts.onDamagedCheckpoint });
    const resumed = await resumeFromCheckpoint(this.checkpointer, this.opts, this.learners, this.settings, onStale, onDamaged);
    if (resumed === null) return;
    if (resumed.model !== null) {
      this.eventTimeHighWatermark = resumed.model.eventTimeHighWatermark;
      this.modelEvents = resumed.model.modelEvents;
      this.replays.restore(resumed.model.origins);
    }
    for (const o of resumed.offsets) this.seekTo(o);
  }

  /** next offset to apply, per training partition (`topic#partition`) */
  get next(): ReadonlyMap<string, number> {
    return this.positions.next;
  }

  private seekTo(o: PartitionOffset): void {
    this.positions.set(o);
    this.consumer?.seek({ topic: o.topic, partition: o.partition, offset: o.offset });
  }

  private async handle(batch: Batch): Promise<void> {
    if (this.restoring !== null) await this.restoring;
    if (!this.owner || !this.running) return;
    const { records, seekBack } = this.positions.admit(batch);
    if (seekBack !== null) this.consumer?.seek({ topic: batch.topic, partition: batch.partition, offset: seekBack });
    if (records.length === 0) return;
    const learner = this.byTopic.get(batch.topic);
    if (learner === undefined) return;
    const t0 = performance.now();
    this.applying = true;
    try {
      const r = await applyFresh(learner, records, this.replays, this.m);
      // the rare training record that cannot be decoded goes to the dead-letter topic, never stalls the partition
      if (r.rejected.length > 0 && this.producer !== null) await this.deadLetters.send(this.producer, r.rejected);
      this.modelEvents += r.fresh;
      // never ahead of the clock: one event stamped in the future must not pin the watermark (ingest dead-letters those too)
      this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, Math.min(r.eventTime, Date.now()));
    } finally {
      this.applying = false;
    }
    this.positions.applied(records);
    this.applied += records.length;
    this.m.batchSeconds.observe((performance.now() - t0) / 1000);
    this.m.lastApplied.set(Date.now() / 1000);
    if (this.eventTimeHighWatermark > 0) this.m.eventTime.set(this.eventTimeHighWatermark / 1000);
    learner.exportMetrics();
    this.maybeCheckpoint();
  }

  private maybePublishRows(): void {
    if (this.owner && this.running && !this.applying && this.restoring === null)
      void this.checkpointer.publishChanged(this.learners, this.eventTimeHighWatermark, this.opts.updatesBetweenCheckpoints);
  }

  /** Starts a checkpoint when one is due, at a batch boundary (never while SGD is in flight). */
  private maybeCheckpoint(): void {
    if (!this.owner || this.applying || this.restoring !== null || this.checkpointer.busy) return;
    if (this.applied <= this.checkpointer.appliedAtLast) return;
    if (Date.now() - this.checkpointer.lastSuccess < this.opts.checkpointEveryMs) return;
    void this.checkpointNow(true);
  }

  private checkpointNow(commit: boolean): Promise<void> {
    const position = { offsets: this.positions.list(), origins: this.replays.marks(), modelEvents: this.modelEvents };
    const cut = this.checkpointer.take(this.learners, position, this.eventTimeHighWatermark, this.applied, this.settings);
    return this.checkpointer.start(cut, this.consumer, commit).then(() => {
      // a failed checkpoint dropped the changes it drained: the next one publishes everything
      if (this.checkpointer.failuresInRow > 0) for (const l of this.learners) l.markAllChanged();
    });
  }

  /** Writes a checkpoint at the next batch boundary and waits for it (tests, shutdown). */
  async checkpoint(options: { commit?: boolean } = {}): Promise<void> {
    while (this.applying) await new Promise((r) => setImmediate(r));
    // settled last: no timer runs between it and the checkpoint starting, so the slot is free
    await this.checkpointer.settle();
    if (!this.owner) return;
    await this.checkpointNow(options.commit !== false);
  }

  /** Its consumer's health (null before start). */
  consumerState(): ConsumerState | null {
    return this.consumer?.state() ?? null;
  }

  /** What the models hold, for operators and the exactly-once accounting of the fault tests. */
  details(): Record<string, unknown> {
    (this.threads?.busySeconds ?? []).forEach((s, i) => this.m.threadBusy.set({ thread: String(i + 1) }, s));
    const learners = Object.assign({}, ...this.learners.map((l) => l.details())) as Record<string, number>;
    // consumed: next offset to apply per `topic#partition` (against the log's end: everything applied?)
    return {
      role: this.role,
      applied: this.applied,
      modelEvents: this.modelEvents,
      replaysSkipped: this.replays.skipped,
      logRestarts: this.replays.restarts,
      ...learners,
      checkpoint: this.checkpointHealth,
      consumed: Object.fromEntries(this.next),
    };
  }

  async stop(options: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.updatesTimer) clearInterval(this.updatesTimer);
    await this.lag?.stop();
    await this.consumer?.close();
    this.consumerUp = false;
    while (this.applying) await new Promise((r) => setImmediate(r));
    await this.checkpointer.settle();
    if (options.checkpoint !== false && this.running && this.applied > this.checkpointer.appliedAtLast) await this.checkpointNow(false);
    this.running = false;
    await this.threads?.close();
    for (const l of this.learners) await l.close();
    await this.producer?.close();
  }
}
