import { DecodeError, decodeErrorCodes, type AvroCodec, type EmbeddingRecord, type EntityKind } from '@freshet/avro';
import type { Batch, Consumer, ConsumerState, Producer, TopicPartition } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { DeadLetters, type Rejected } from '../dead-letters.js';
import { LagMonitor } from '../lag.js';
import { readToEnd } from '../read-to-end.js';
import { makeSinks } from '../sinks/index.js';
import { PUBLISH_REJECTIONS, publisherMetrics, vectorProblem } from './metrics.js';
import { entityKey, parseEntityKey } from '../sinks/keys.js';
import type { SnapshotSink } from '../sinks/sink.js';
import type { PublisherOptions } from './settings.js';

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
  private readonly kinds: EntityKind[];
  private readonly state: Map<EntityKind, Map<string, EmbeddingRecord>>;
  private readonly changed = new Set<string>();
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private lastPublish = Date.now();
  private pending: Array<{ topic: string; partition: number; offset: number }> = [];
  /** what the last snapshot committed: committed again before the next one, as a fence */
  private lastCommitted: Array<{ topic: string; partition: number; offset: number }> = [];
  private version = 0;
  private eventTimeHighWatermark = 0;
  private running = false;
  /** owns the model-updates partitions; state is rebuilt before the first batch after gaining them */
  private owner = false;
  private restorePending = false;
  private publishing: Promise<void> | null = null;
  private lag: LagMonitor | null = null;
  /** next offset to read per model-updates partition (for the lag gauge) */
  private readonly positions = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly updateCodec: AvroCodec<EmbeddingRecord>;
  private readonly latestCodec: AvroCodec<EmbeddingRecord>;
  private readonly sinks: SnapshotSink[];
  private readonly deadLetters: DeadLetters;
  private readonly m: ReturnType<typeof publisherMetrics>;
  snapshots = 0;

  constructor(private readonly opts: PublisherOptions) {
    const codecs = new Codecs(opts.registry, opts.topics);
    this.kinds = opts.topics.kinds;
    this.state = new Map(this.kinds.map((k) => [k, new Map()]));
    this.updateCodec = codecs.modelUpdates();
    this.deadLetters = new DeadLetters(codecs.deadLetters(), opts.topics.deadLetters, 'publisher');
    this.latestCodec = codecs.latest();
    this.sinks = opts.sinks ?? makeSinks(opts.sinkNames, { producer: () => this.producer, codecs, chunkBytes: opts.chunkBytes });
    this.m = publisherMetrics(opts.metrics);
    // every reason exists from the start: dashboards and alerts see 0 rather than no data
    for (const code of [...decodeErrorCodes, ...PUBLISH_REJECTIONS]) this.m.rejected.inc({ code }, 0);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Vectors changed since the last snapshot (the next one will carry them). */
  get pendingChanges(): number {
    return this.changed.size;
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
        if (this.changed.size > 0 && Date.now() - this.lastPublish >= this.opts.publishEveryMs) {
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
      this.changed.clear();
      this.pending = [];
      this.opts.logger.warn('publisher lost its partitions to another instance; standing by');
    }
    this.owner = owns;
    this.m.active.set(owns ? 1 : 0);
  }

  /** Rebuilds every entity's latest vector from the compacted topic (as of the last snapshot). */
  private async restoreLatest(): Promise<void> {
    for (const kind of this.kinds) this.state.get(kind)?.clear();
    const read = await readToEnd(this.opts.transport, this.opts.topics.embeddingsLatest, async (record) => {
      if (record.value === null) return;
      let value: EmbeddingRecord;
      try {
        value = (await this.latestCodec.decode(record.value)).value;
      } catch (err) {
        // a record there that cannot be read is left out of the rebuilt state, counted: the trainer's next full publish brings the row back
        if (!(err instanceof DecodeError)) throw err;
        this.m.rejected.inc({ code: err.code });
        return;
      }
      this.state.get(value.kind)?.set(value.id, value);
      this.version = Math.max(this.version, value.version);
      this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, value.updatedAt);
    });
    this.restorePending = false;
    this.opts.logger.info(
      { records: read, entities: Object.fromEntries(this.kinds.map((k) => [k, this.state.get(k)?.size ?? 0])) },
      'publisher state restored from the latest-vector topic',
    );
  }

  private async handle(batch: Batch): Promise<void> {
    if (!this.owner) return;
    if (this.restorePending) await this.restoreLatest();
    const decoded = await this.updateCodec.decodeAll(batch.records.map((r) => r.value));
    const rejected: Rejected[] = [];
    for (const [j, record] of batch.records.entries()) {
      if (j > 0 && j % 256 === 0) await new Promise((r) => setImmediate(r)); // big batches: health answers meanwhile
      const value = decoded[j];
      // an update that cannot be decoded, or whose vector is not finite, is parked with its reason: the partition moves on
      const problem = value instanceof DecodeError ? { code: value.code, message: value.message } : vectorProblem(value);
      if (problem !== null) {
        rejected.push({ record, ...problem });
        continue;
      }
      const update = value as EmbeddingRecord;
      this.state.get(update.kind)?.set(update.id, update);
      this.changed.add(entityKey(update.kind, update.id));
      this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, update.updatedAt);
    }
    if (rejected.length > 0) await this.reject(rejected);
    const next = batch.nextOffset;
    this.pending.push({ topic: batch.topic, partition: batch.partition, offset: next });
    this.positions.set(`${batch.topic}#${batch.partition}`, next);
    if (this.changed.size >= this.opts.publishEveryUpdates || (this.changed.size > 0 && Date.now() - this.lastPublish >= this.opts.publishEveryMs)) {
      await this.publish();
    }
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

  /** Cuts a snapshot now (also called on shutdown). */
  publish(): Promise<void> {
    this.publishing ??= this.cut().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  private async cut(): Promise<void> {
    if (!this.producer || this.changed.size === 0) return;
    // what this snapshot covers, captured now: batches handled while it is written go to the next
    const changed = [...this.changed];
    this.changed.clear();
    const covered = this.pending.splice(0);
    try {
      await this.write(changed, covered);
    } catch (err) {
      for (const key of changed) this.changed.add(key);
      this.pending.unshift(...covered);
      throw err;
    }
  }

  private async write(changed: string[], covered: Array<{ topic: string; partition: number; offset: number }>): Promise<void> {
    if (!this.producer) return;
    // fencing: an owner paused past its session (GC, frozen VM) wakes up with a timer that cuts a
    // snapshot before its client notices the rebalance. Committing again what it last committed
    // fails once the group has moved on without it, so it never publishes its stale state over
    // the new owner's (readers would go back to an older model).
    if (this.lastCommitted.length > 0) await this.consumer?.commit(this.lastCommitted);
    const end = this.m.snapshotSeconds.startTimer();
    this.version = Math.max(this.version + 1, Date.now());
    const version = this.version;
    const createdAt = Date.now();
    // what the state holds now: every update read so far, per partition (the manifest says so)
    const updateOffsets = Object.fromEntries([...this.positions].map(([key, next]) => [key.slice(key.lastIndexOf('#') + 1), next]));
    const stamped: EmbeddingRecord[] = [];
    for (const key of changed) {
      const k = parseEntityKey(key);
      const record = k === null ? undefined : this.state.get(k.kind)?.get(k.id);
      if (record !== undefined) stamped.push({ ...record, version });
    }
    let bytes = 0;
    let chunks = 0;
    for (const sink of this.sinks) {
      const receipt = await sink.writeVersion({
        version,
        createdAt,
        eventTimeHighWatermark: this.eventTimeHighWatermark,
        changed: stamped,
        state: this.state,
        updateOffsets,
      });
      bytes += receipt.bytes;
      chunks += receipt.chunks;
    }
    const counts = Object.fromEntries(this.kinds.map((k) => [k, this.state.get(k)?.size ?? 0]));
    await this.consumer?.commit(covered);
    if (covered.length > 0) this.lastCommitted = covered;
    this.lastPublish = Date.now();
    this.snapshots++;
    end();
    this.m.snapshotBytes.set(bytes);
    this.m.snapshots.inc();
    this.m.version.set(version);
    this.m.lastSnapshot.set(createdAt / 1000);
    if (this.eventTimeHighWatermark > 0) this.m.freshness.observe(Math.max(0, createdAt - this.eventTimeHighWatermark) / 1000);
    for (const kind of this.kinds) this.m.entities.set({ kind: kind.toLowerCase() }, counts[kind] ?? 0);
    this.opts.logger.info({ version, chunks, bytes, counts }, 'snapshot published');
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
