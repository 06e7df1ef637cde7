import { randomUUID } from 'node:crypto';
import { TransportError } from './errors.js';
import { partitionForKey } from './partitioner.js';
import type {
  Admin,
  Batch,
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  ConsumerState,
  OutgoingRecord,
  Producer,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  Transport,
} from './types.js';

interface Partition {
  records: ConsumedRecord[];
  /** offset of records[0] (compaction and retention drop the front) */
  base: number;
}

interface Topic {
  spec: TopicSpec;
  partitions: Partition[];
  roundRobin: number;
}

interface GroupMember {
  consumer: MemoryConsumer;
  topics: string[];
  exclusive: boolean;
}

interface Group {
  members: GroupMember[];
  committed: Map<string, { offset: number; metadata?: string }>;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * The embedded default: Kafka's model in one process. Topics of partitions with offsets, keys
 * placed by Kafka's murmur2 partitioner, consumer groups that split partitions among members and
 * rebalance when one joins or leaves, and committed offsets that a restarted consumer resumes
 * from. It passes the same contract tests as the Kafka transport (test/transport-contract.ts).
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  /** a fresh id per transport: like a new cluster, its logs start empty */
  private readonly id = randomUUID();

  constructor(private readonly defaults: { partitions: number } = { partitions: 1 }) {}

  /** The topic, created with the default partition count on first use (like auto.create.topics). */
  topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = this.createTopic({ topic: name, partitions: this.defaults.partitions });
    }
    return t;
  }

  createTopic(spec: TopicSpec): Topic {
    const existing = this.topics.get(spec.topic);
    if (existing) return existing;
    const t: Topic = { spec, partitions: Array.from({ length: spec.partitions }, () => ({ records: [], base: 0 })), roundRobin: 0 };
    this.topics.set(spec.topic, t);
    return t;
  }

  append(topicName: string, record: OutgoingRecord): { partition: number; offset: number } {
    const t = this.topic(topicName);
    const n = t.partitions.length;
    const size = (record.value?.length ?? 0) + (record.key?.length ?? 0);
    if (t.spec.maxMessageBytes !== undefined && size > t.spec.maxMessageBytes) {
      throw new TransportError('RECORD_TOO_LARGE', `record of ${size} bytes exceeds ${t.spec.maxMessageBytes} bytes on topic ${topicName}`);
    }
    const partition = record.partition ?? (record.key ? partitionForKey(record.key, n) : t.roundRobin++ % n);
    if (partition < 0 || partition >= n) throw new TransportError('NO_SUCH_PARTITION', `topic ${topicName} has no partition ${partition}`);
    const p = t.partitions[partition];
    const offset = p.base + p.records.length;
    p.records.push({
      topic: topicName,
      partition,
      offset,
      key: record.key,
      value: record.value,
      headers: record.headers ?? {},
      timestamp: record.timestamp ?? Date.now(),
    });
    return { partition, offset };
  }

  read(topic: string, partition: number, from: number, max: number): ConsumedRecord[] {
    const p = this.topic(topic).partitions[partition];
    const start = Math.max(0, from - p.base);
    return p.records.slice(start, start + max);
  }

  endOffset(topic: string, partition: number): number {
    const p = this.topic(topic).partitions[partition];
    return p.base + p.records.length;
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = { members: [], committed: new Map() };
      this.groups.set(id, g);
    }
    return g;
  }

  /**
   * Range assignment per topic, members in join order (an exclusive group gives everything to
   * the oldest member); every member is told its new share.
   */
  rebalance(groupId: string): void {
    const g = this.group(groupId);
    const shares = new Map<MemoryConsumer, TopicPartition[]>(g.members.map((m) => [m.consumer, []]));
    const topics = new Set(g.members.flatMap((m) => m.topics));
    const exclusive = g.members.some((m) => m.exclusive);
    for (const topic of topics) {
      const members = g.members.filter((m) => m.topics.includes(topic));
      const n = this.topic(topic).partitions.length;
      for (let p = 0; p < n; p++) {
        const owner = exclusive ? members[0] : members[Math.floor((p * members.length) / n)];
        shares.get(owner.consumer)?.push({ topic, partition: p });
      }
    }
    for (const [consumer, share] of shares) consumer.assign(share);
  }

  async producer(): Promise<Producer> {
    return {
      send: async (topic, records) => records.map((r) => this.append(topic, r)),
      close: async () => undefined,
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const consumer = new MemoryConsumer(this, options);
    const g = this.group(options.groupId);
    g.members.push({ consumer, topics: options.topics, exclusive: options.exclusive ?? false });
    this.rebalance(options.groupId);
    return consumer;
  }

  leave(groupId: string, consumer: MemoryConsumer): void {
    const g = this.group(groupId);
    g.members = g.members.filter((m) => m.consumer !== consumer);
    this.rebalance(groupId);
  }

  async admin(): Promise<Admin> {
    return {
      createTopics: async (specs) => {
        for (const s of specs) this.createTopic(s);
      },
      committedOffsets: async (groupId, topic) =>
        this.topic(topic).partitions.map((_, partition) => {
          const c = this.group(groupId).committed.get(tpKey(topic, partition));
          return { topic, partition, offset: c?.offset ?? -1, ...(c?.metadata !== undefined ? { metadata: c.metadata } : {}) };
        }),
      endOffsets: async (topic) => this.topic(topic).partitions.map((_, partition) => ({ topic, partition, offset: this.endOffset(topic, partition) })),
      startOffsets: async (topic) => this.topic(topic).partitions.map((p, partition) => ({ topic, partition, offset: p.base })),
      clusterId: async () => this.id,
      listTopics: async () => [...this.topics.keys()],
      deleteGroup: async (groupId) => {
        const g = this.groups.get(groupId);
        if (g === undefined) throw new TransportError('GROUP_NOT_FOUND', `group ${groupId} does not exist`);
        if (g.members.length > 0) throw new TransportError('GROUP_NOT_EMPTY', `group ${groupId} still has ${g.members.length} members`);
        this.groups.delete(groupId);
      },
      close: async () => undefined,
    };
  }
}

class MemoryConsumer implements Consumer {
  private assigned: TopicPartition[] = [];
  private readonly positions = new Map<string, number>();
  private closed = false;
  private wake: (() => void) | null = null;
  private rebalances = 0;
  private restarts = 0;
  private failure: string | null = null;
  private lastContact = 0;

  constructor(
    private readonly transport: MemoryTransport,
    private readonly options: ConsumerOptions,
  ) {}

  state(): ConsumerState {
    return {
      up: !this.closed && this.failure === null,
      rebalances: this.rebalances,
      restarts: this.restarts,
      lastContact: this.lastContact,
      failure: this.failure,
    };
  }

  assign(share: TopicPartition[]): void {
    this.assigned = share;
    this.rebalances++;
    this.lastContact = Date.now();
    // a new owner starts from the group's committed offset, like a Kafka rebalance
    this.positions.clear();
    const g = this.transport.group(this.options.groupId);
    for (const tp of share) {
      const committed = g.committed.get(tpKey(tp.topic, tp.partition))?.offset;
      const start = committed ?? (this.options.fromBeginning === false ? this.transport.endOffset(tp.topic, tp.partition) : 0);
      this.positions.set(tpKey(tp.topic, tp.partition), start);
    }
    this.options.onAssignment?.(share);
    this.wake?.();
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  seek(position: TopicPartitionOffset): void {
    this.positions.set(tpKey(position.topic, position.partition), position.offset);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    const g = this.transport.group(this.options.groupId);
    for (const o of offsets) g.committed.set(tpKey(o.topic, o.partition), { offset: o.offset, ...(o.metadata !== undefined ? { metadata: o.metadata } : {}) });
  }

  async run(handler: (batch: Batch) => Promise<void>): Promise<void> {
    while (!this.closed) {
      this.lastContact = Date.now();
      let delivered = false;
      for (const tp of this.assigned) {
        if (this.closed) break;
        const key = tpKey(tp.topic, tp.partition);
        const from = this.positions.get(key) ?? 0;
        const records = this.transport.read(tp.topic, tp.partition, from, 500);
        if (records.length === 0) continue;
        delivered = true;
        await this.deliver(handler, { topic: tp.topic, partition: tp.partition, records, nextOffset: records[records.length - 1].offset + 1 });
        // a seek inside the handler wins over the automatic advance
        if (this.positions.get(key) === from) this.positions.set(key, records[records.length - 1].offset + 1);
      }
      if (!delivered && !this.closed) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          const timer = setTimeout(resolve, 50);
          timer.unref?.();
        });
        this.wake = null;
      } else {
        // yield so producers and timers in the same process get their turn
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * Kafka's behaviour on a failing handler: the batch is retried `retries` times, then the
   * consumer "restarts" (the batch again) up to `maxRestarts` times, then gives up: run() rejects.
   */
  private async deliver(handler: (batch: Batch) => Promise<void>, batch: Batch): Promise<void> {
    const attempts = ((this.options.retries ?? 10) + 1) * ((this.options.maxRestarts ?? 5) + 1);
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(batch);
        return;
      } catch (err) {
        if (attempt >= attempts || this.closed) {
          this.failure = `consumer crashed: ${(err as Error).message}`;
          throw err;
        }
        if (attempt % ((this.options.retries ?? 10) + 1) === 0) this.restarts++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 10 * attempt)));
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.transport.leave(this.options.groupId, this);
  }
}
