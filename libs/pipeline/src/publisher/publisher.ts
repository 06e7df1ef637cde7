import type { AvroCodec, EmbeddingRecord, EntityKind } from '@freshet/avro';
import { Counter, Gauge, Histogram, type Registry } from '@freshet/runtime';
import type { Batch, Consumer, ConsumerState, Producer, TopicPartition } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { LagMonitor } from '../lag.js';
import { readToEnd } from '../read-to-end.js';
import { SNAPSHOT_SINKS } from '../sinks/index.js';
import { entityKey, parseEntityKey } from '../sinks/keys.js';
import type { SnapshotSink } from '../sinks/sink.js';
import type { ProcessorWiring } from '../wiring.js';
import type { PublisherSettings } from './settings.js';

export interface PublisherOptions extends ProcessorWiring, PublisherSettings {
  /** where versions go (default: the `sinks` setting's, from the registry) */
  sinks?: SnapshotSink[];
}

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
  private readonly m: ReturnType<typeof publisherMetrics>;
  snapshots = 0;

  constructor(private readonly opts: PublisherOptions) {
    const codecs = new Codecs(opts.registry, opts.topics);
    this.kinds = opts.topics.kinds;
    this.state = new Map(this.kinds.map((k) => [k, new Map()]));
    this.updateCodec = codecs.modelUpdates();
    this.latestCodec = codecs.latest();
    const ctx = { producer: () => this.producer, codecs, chunkBytes: opts.chunkBytes };
    this.sinks =
      opts.sinks ??
      opts.sinkNames
        .split(',')
        .filter((n) => n !== '')
        .map((name) => {
          const make = SNAPSHOT_SINKS[name];
          if (make === undefined) throw new Error(`--sinks: no sink ${name} (sinks: ${Object.keys(SNAPSHOT_SINKS).join(', ')})`);
          return make(ctx);
        });
    this.m = publisherMetrics(opts.metrics);
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
    this.lag = new LagMonitor(this.opts.transport, [this.opts.topics.modelUpdates], () => this.positions, this.opts.metrics);
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
      const { value } = await this.latestCodec.decode(record.value);
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
    for (const [j, record] of batch.records.entries()) {
      if (j > 0 && j % 256 === 0) await new Promise((r) => setImmediate(r)); // big batches: health answers meanwhile
      const { value } = await this.updateCodec.decode(record.value);
      this.state.get(value.kind)?.set(value.id, value);
      this.changed.add(entityKey(value.kind, value.id));
      this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, value.updatedAt);
    }
    const next = batch.records[batch.records.length - 1].offset + 1;
    this.pending.push({ topic: batch.topic, partition: batch.partition, offset: next });
    this.positions.set(`${batch.topic}#${batch.partition}`, next);
    if (this.changed.size >= this.opts.publishEveryUpdates || (this.changed.size > 0 && Date.now() - this.lastPublish >= this.opts.publishEveryMs)) {
      await this.publish();
    }
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
    const stamped: EmbeddingRecord[] = [];
    for (const key of changed) {
      const k = parseEntityKey(key);
      const record = k === null ? undefined : this.state.get(k.kind)?.get(k.id);
      if (record !== undefined) stamped.push({ ...record, version });
    }
    let bytes = 0;
    let chunks = 0;
    for (const sink of this.sinks) {
      const receipt = await sink.writeVersion({ version, createdAt, eventTimeHighWatermark: this.eventTimeHighWatermark, changed: stamped, state: this.state });
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

function publisherMetrics(registry: Registry) {
  const registers = [registry];
  return {
    snapshots: new Counter({ name: 'freshet_snapshots_published_total', help: 'Snapshot versions published (chunks and manifest written).', registers }),
    snapshotSeconds: new Histogram({
      name: 'freshet_snapshot_duration_seconds',
      help: 'Time to write one snapshot version.',
      buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      registers,
    }),
    snapshotBytes: new Gauge({ name: 'freshet_snapshot_size_bytes', help: 'Encoded size of the last snapshot (all chunks).', registers }),
    version: new Gauge({ name: 'freshet_snapshot_version', help: 'Version number of the last snapshot.', registers }),
    lastSnapshot: new Gauge({
      name: 'freshet_snapshot_last_published_timestamp_seconds',
      help: 'When the last snapshot was published (unix seconds); snapshot age = time() - this.',
      registers,
    }),
    freshness: new Histogram({
      name: 'freshet_freshness_seconds',
      help: 'Event time of the newest applied event to the snapshot that contains it.',
      buckets: [0.1, 0.3, 1, 3, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    active: new Gauge({
      name: 'freshet_publisher_active',
      help: '1 while this instance owns the model updates and publishes, 0 while it stands by.',
      registers,
    }),
    entities: new Gauge({ name: 'freshet_snapshot_entities', help: 'Entities in the last snapshot, by kind.', labelNames: ['kind'], registers }),
  };
}
