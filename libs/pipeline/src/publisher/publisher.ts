import { DecodeError, decodeErrorCodes, type AvroCodec, type EmbeddingRecord } from '@freshet/avro';
import type { Batch, Consumer, ConsumerState, Producer, TopicPartition } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { DeadLetters, type Rejected } from '../dead-letters.js';
import { LagMonitor } from '../lag.js';
import { makeSinks } from '../sinks/index.js';
import { PUBLISH_REJECTIONS, publisherMetrics, vectorProblem } from './metrics.js';
import type { ModelVersion, SnapshotSink } from '../sinks/sink.js';
import { EntityState, type EntityRef } from './entity-state.js';
import type { PublisherOptions } from './settings.js';
import { readLabelCatalogue, ZeroShotLabels, zeroShotMetrics } from './zero-shot.js';

export type { PublisherOptions } from './settings.js';

/**
 * The publisher: consumes the trainer's model updates, keeps the latest vector of every entity,
 * and on a schedule cuts a snapshot: changed vectors go to the compacted latest-vector topic, and
 * the whole state goes to the snapshot topic as chunks followed by a manifest (version, chunk
 * count, CRC-32 per chunk). A reader assembles a version only once its manifest and every listed
 * chunk have arrived intact, so a publisher that dies between chunks never exposes half a version.
 *
 * Its state is every entity's latest vector, which the compacted latest-vector topic holds as of
 * the last snapshot; the model updates after that are the ones not yet committed. So the instance
 * that becomes the owner (at start, or a standby taking over: the group is exclusive) first reads
 * the latest-vector topic to its end, then consumes updates from the committed offsets.
 */
export class PublisherProcessor {
  private readonly state: EntityState;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private lastPublish = Date.now();
  private pending: Array<{ topic: string; partition: number; offset: number }> = [];
  /** what the last snapshot committed: committed again before the next one, as a fence */
  private lastCommitted: Array<{ topic: string; partition: number; offset: number }> = [];
  private version = 0;
  private running = false;
  /** owns the model-updates partitions; state is rebuilt before the first batch after gaining them */
  private owner = false;
  private restorePending = false;
  private publishing: Promise<void> | null = null;
  /** a batch is being applied to the state (a version must wait: it reads the state in place) */
  private applying = false;
  private lag: LagMonitor | null = null;
  /** next offset to read per model-updates partition (for the lag gauge) */
  private readonly positions = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly updateCodec: AvroCodec<EmbeddingRecord>;
  private readonly latestCodec: AvroCodec<EmbeddingRecord>;
  private readonly sinks: SnapshotSink[];
  private readonly deadLetters: DeadLetters;
  private readonly m: ReturnType<typeof publisherMetrics>;
  /** the zero-shot labels' synthesis (null: --zero-shot off) */
  private readonly zeroShot: ZeroShotLabels | null;
  snapshots = 0;

  constructor(private readonly opts: PublisherOptions) {
    const codecs = new Codecs(opts.registry, opts.topics);
    this.state = new EntityState(opts.topics.kinds);
    this.updateCodec = codecs.modelUpdates();
    this.deadLetters = new DeadLetters(codecs.deadLetters(), opts.topics.deadLetters, 'publisher');
    this.latestCodec = codecs.latest();
    this.sinks =
      opts.sinks ??
      makeSinks(opts.sinkNames, {
        producer: () => this.producer,
        codecs,
        chunkBytes: opts.chunkBytes,
        chain: { maxDeltas: opts.maxDeltas, baseEveryMs: opts.baseEveryMs, maxDeltaBytes: opts.maxDeltaBytes },
        lancedbUri: opts.lancedbUri,
      });
    this.m = publisherMetrics(opts.metrics);
    // registered with --zero-shot off too: the alert on failures always finds its series
    const zeroShotM = zeroShotMetrics(opts.metrics);
    zeroShotM.failures.inc(0);
    this.zeroShot = null;
    if (opts.zeroShot !== 'off') {
      const catalogue = readLabelCatalogue(opts.zeroShotLabels);
      if (catalogue.length === 0)
        throw new Error(`--zero-shot ${opts.zeroShot} needs a label catalogue: --zero-shot-labels FILE (one label per line) or a,b,c`);
      this.zeroShot = new ZeroShotLabels(opts.zeroShot, catalogue, zeroShotM, opts.logger);
    }
    // every reason exists from the start: dashboards and alerts see 0 rather than no data
    for (const code of [...decodeErrorCodes, ...PUBLISH_REJECTIONS]) this.m.rejected.inc({ code }, 0);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Vectors changed since the last snapshot (the next one will carry them). */
  get pendingChanges(): number {
    return this.state.pending;
  }

  /** Next offset to read per model-updates partition (`topic#partition`): what it has taken in. */
  get consumed(): ReadonlyMap<string, number> {
    return this.positions;
  }

  /** The version of the last snapshot begun (published, or cut short by a failure). */
  get lastVersion(): number {
    return this.version;
  }

  async start(): Promise<void> {
    this.producer = await this.opts.transport.producer();
    this.consumer = await this.opts.transport.consumer({
      groupId: this.opts.groupId,
      topics: [this.opts.topics.modelUpdates],
      fromBeginning: true,
      exclusive: true,
      onAssignment: (assigned) => this.assigned(assigned),
    });
    this.running = true;
    // updates that arrive just after a snapshot must not wait for the next batch to be published
    this.timer = setInterval(
      () => {
        if (this.due()) {
          this.publish().catch((err: unknown) => this.opts.logger.error({ err }, 'snapshot failed'));
        }
      },
      Math.min(1000, this.opts.publishEveryMs),
    );
    this.timer.unref();
    this.lag = new LagMonitor({
      transport: this.opts.transport,
      topics: [this.opts.topics.modelUpdates],
      positions: () => this.positions,
      registry: this.opts.metrics,
      owned: () => this.consumer?.assignment() ?? [],
      groupId: this.opts.groupId,
    });
    await this.lag.start();
    void this.consumer
      .run((b) => this.handle(b))
      .catch((err: unknown) => {
        this.running = false;
        this.opts.logger.error({ err }, 'publisher consume loop failed');
        this.opts.onFatal?.(err instanceof Error ? err : new Error(String(err)));
      });
  }

  private assigned(assigned: TopicPartition[]): void {
    const owns = assigned.length > 0;
    if (owns && !this.owner) {
      this.restorePending = true;
      this.opts.logger.info({ partitions: assigned.length }, 'publisher is the active instance');
    } else if (!owns && this.owner) {
      // another instance owns the updates now: what this one holds is not its to publish
      this.state.dropChanges();
      this.pending = [];
      this.opts.logger.warn('publisher lost its partitions to another instance; standing by');
    }
    this.owner = owns;
    this.m.active.set(owns ? 1 : 0);
  }

  /** Rebuilds every entity's latest vector from the compacted topic (as of the last snapshot). */
  private async restoreLatest(): Promise<void> {
    const read = await this.state.restore(this.opts.transport, this.opts.topics.embeddingsLatest, this.latestCodec, (err) =>
      this.m.rejected.inc({ code: err.code }),
    );
    this.version = Math.max(this.version, this.state.version);
    this.restorePending = false;
    this.opts.logger.info({ records: read, entities: this.state.counts() }, 'publisher state restored from the latest-vector topic');
  }

  private async handle(batch: Batch): Promise<void> {
    if (!this.owner) return;
    // a version reads the state in place: it changes only between versions (publish() waits for `applying`)
    while (this.publishing !== null) await this.publishing.catch(() => undefined);
    this.applying = true;
    const rejected: Rejected[] = [];
    try {
      if (this.restorePending) await this.restoreLatest();
      const decoded = await this.updateCodec.decodeAll(batch.records.map((r) => r.value));
      for (const [j, record] of batch.records.entries()) {
        if (j > 0 && j % 256 === 0) await new Promise((r) => setImmediate(r)); // big batches: health answers meanwhile
        // a tombstone deletes the entity its key names (an evicted row)
        if (record.value === null && this.state.delete(record.key?.toString() ?? '')) continue;
        const value = decoded[j];
        // an update that cannot be decoded, whose vector is not finite or not its kind's dimension, is parked with its reason: the partition moves on
        const problem = value instanceof DecodeError ? { code: value.code, message: value.message } : (vectorProblem(value) ?? this.dimensionProblem(value));
        if (problem !== null) {
          rejected.push({ record, ...problem });
          continue;
        }
        this.state.upsert(value as EmbeddingRecord);
      }
    } finally {
      this.applying = false;
    }
    if (rejected.length > 0) await this.reject(rejected);
    const next = batch.nextOffset;
    this.pending.push({ topic: batch.topic, partition: batch.partition, offset: next });
    this.positions.set(`${batch.topic}#${batch.partition}`, next);
    if (this.due()) await this.publish();
  }

  /**
   * Whether a version is due: something changed, and --publish-every-ms passed (or
   * --publish-every-updates changed). While more than --catch-up-records updates wait, only every
   * --catch-up-every-ms: each version costs the time of writing it, and one cut from a backlog is
   * stale the moment it appears.
   */
  private due(): boolean {
    const pending = this.state.pending;
    const catchingUp = this.opts.catchUpRecords > 0 && (this.lag?.behind() ?? 0) > this.opts.catchUpRecords;
    this.m.catchingUp.set(catchingUp ? 1 : 0);
    if (pending === 0) return false;
    if (pending >= this.opts.publishEveryUpdates) return true;
    const every = catchingUp ? Math.max(this.opts.catchUpEveryMs, this.opts.publishEveryMs) : this.opts.publishEveryMs;
    return Date.now() - this.lastPublish >= every;
  }

  /** A row whose dimension is not the one its kind's rows have (a trainer restarted with another --dim on the same topics). */
  private dimensionProblem(r: EmbeddingRecord): { code: string; message: string } | null {
    if (this.state.fits(r)) return null;
    return {
      code: 'BAD_VECTOR',
      message: `${r.kind}:${r.id} has dimension ${r.dim}, the published ${r.kind} rows ${this.state.dim(r.kind)}: a model of another dimension needs its own topics (FRESHET_TOPIC_PREFIX)`,
    };
  }

  /** Dead-letters undecodable or non-finite updates, counts them by code, and logs the offset range once. */
  private async reject(rejected: Rejected[]): Promise<void> {
    if (this.producer !== null) await this.deadLetters.send(this.producer, rejected);
    for (const r of rejected) this.m.rejected.inc({ code: r.code });
    const [first, last] = [rejected[0].record, rejected[rejected.length - 1].record];
    this.opts.logger.error(
      {
        topic: first.topic,
        partition: first.partition,
        offsets: [first.offset, last.offset],
        count: rejected.length,
        codes: [...new Set(rejected.map((r) => r.code))],
      },
      'model updates that cannot be published were dead-lettered; their rows are missing from snapshots until the trainer sends them again',
    );
  }

  /** Cuts a snapshot now (also called on shutdown); after the batch being applied, if any. */
  publish(): Promise<void> {
    this.publishing ??= this.afterApplying()
      .then(() => this.cut())
      .finally(() => {
        this.publishing = null;
      });
    return this.publishing;
  }

  /** Resolves once no batch is half applied (the timer can fire while one yields to the event loop). */
  private async afterApplying(): Promise<void> {
    while (this.applying) await new Promise((r) => setImmediate(r));
  }

  private async cut(): Promise<void> {
    if (!this.producer || this.state.pending === 0) return;
    // fencing: an owner paused past its session (GC, frozen VM) wakes up with a timer that cuts a
    // snapshot before its client notices the rebalance. Committing again what it last committed
    // fails once the group has moved on without it, so it never publishes its stale state over
    // the new owner's (readers would go back to an older model).
    if (this.lastCommitted.length > 0) await this.consumer?.commit(this.lastCommitted);
    // what this snapshot covers, captured now: batches handled while it is written go to the next
    this.version = Math.max(this.version + 1, Date.now());
    // zero-shot labels follow the learned rows this version carries (a word's first vector included)
    this.zeroShot?.refresh(this.state);
    const changes = { ...this.state.take(this.version), state: this.state };
    const covered = this.pending.splice(0);
    try {
      await this.write(changes, covered);
    } catch (err) {
      changes.undo();
      this.pending.unshift(...covered);
      throw err;
    }
  }

  private async write(
    changes: { changed: EmbeddingRecord[]; deleted: EntityRef[]; state: ModelVersion['state'] },
    covered: Array<{ topic: string; partition: number; offset: number }>,
  ): Promise<void> {
    const end = this.m.snapshotSeconds.startTimer();
    const version = this.version;
    const createdAt = Date.now();
    // what the state holds now: every update read so far, per partition (the manifest says so)
    const updateOffsets = Object.fromEntries([...this.positions].map(([key, next]) => [key.slice(key.lastIndexOf('#') + 1), next]));
    let bytes = 0;
    let chunks = 0;
    for (const sink of this.sinks) {
      const receipt = await sink.writeVersion({
        version,
        createdAt,
        eventTimeHighWatermark: this.state.eventTimeHighWatermark,
        changed: changes.changed,
        deleted: changes.deleted,
        state: changes.state,
        updateOffsets,
      });
      bytes += receipt.bytes;
      chunks += receipt.chunks;
      if (receipt.delta === true) this.m.deltas.inc();
    }
    const counts = this.state.counts();
    await this.consumer?.commit(covered);
    if (covered.length > 0) this.lastCommitted = covered;
    this.lastPublish = Date.now();
    this.snapshots++;
    end();
    this.m.snapshotBytes.set(bytes);
    this.m.snapshots.inc();
    this.m.version.set(version);
    this.m.lastSnapshot.set(createdAt / 1000);
    const watermark = this.state.eventTimeHighWatermark;
    if (watermark > 0) this.m.freshness.observe(Math.max(0, createdAt - watermark) / 1000);
    for (const [kind, n] of Object.entries(counts)) this.m.entities.set({ kind: kind.toLowerCase() }, n);
    this.opts.logger.info({ version, chunks, bytes, counts, deleted: changes.deleted.length }, 'snapshot published');
  }

  /** Its consumer's health (null before start). */
  consumerState(): ConsumerState | null {
    return this.consumer?.state() ?? null;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.lag?.stop();
    try {
      // the last snapshot while the consumer can still commit what it covers
      await this.publish();
    } finally {
      await this.consumer?.close();
      for (const sink of this.sinks) await sink.close?.();
      await this.producer?.close();
    }
  }
}
