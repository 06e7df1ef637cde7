import { Kafka, Partitioners, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { compressionType, registerCompressionCodecs, type ProducerCompression } from './compression.js';
import { isUnreachable, TransportError, fromKafkaError } from './errors.js';
import { exclusiveAssigner, type ExclusiveMemberState } from './exclusive-assigner.js';
import { createTopicsIdempotent } from './kafka-admin.js';
import { KafkaConsumerAdapter } from './kafka-consumer.js';
import { partitionForKey } from './partitioner.js';
import type { Admin, Consumer, ConsumerOptions, OutgoingRecord, Producer, Transport } from './types.js';

export interface KafkaSecurity {
  ssl?: boolean | { ca?: string[]; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface KafkaTransportOptions extends KafkaSecurity {
  brokers: string[];
  clientId: string;
  /** receives kafkajs' log lines (services route them into pino) */
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
  connectionTimeoutMs?: number;
  /** compression of the batches our producers send (consumers read every codec regardless) */
  compression?: ProducerCompression;
  /** called when a producer send fails (after the client's retries), for a metric */
  onProducerError?: (err: unknown) => void;
}

/**
 * kafkajs decodes (and decompresses) a whole fetch response in one synchronous stretch; its
 * default of 10 MiB per fetch held a publisher's event loop for hundreds of milliseconds when a
 * checkpoint's worth of model updates arrived at once, beyond a 100 ms health probe. Reading
 * 23 MB of incompressible lz4 records from a local broker, the longest stretch was about 140 ms
 * at 10 MiB, 80 ms at 2 MiB and 40 ms at 1 MiB, for 15% less raw consume speed at 1 MiB (far
 * above what any of our services processes). 1 MiB is also kafkajs' per-partition default.
 */
export const FETCH_MAX_BYTES = 1024 * 1024;

/** How old a consumer's view of the topics' partitions may get before it asks again. */
export const METADATA_MAX_AGE_MS = 10_000;

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Bytes of records per produce request (below the broker's default 1 MiB message.max.bytes). */
const SEND_BYTES = 512 * 1024;

/** A record's size on the wire, roughly: key, value, headers and per-record overhead. */
function recordBytes(r: OutgoingRecord): number {
  let n = 32 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [k, v] of Object.entries(r.headers ?? {})) n += k.length + v.length + 8;
  return n;
}

/** The Kafka implementation of the transport, over kafkajs. */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly partitionCounts = new Map<string, { n: number; at: number }>();
  private roundRobin = 0;

  constructor(private readonly options: KafkaTransportOptions) {
    const config: KafkaConfig = {
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }: LogEntry) => {
          const { message, ...extra } = log;
          options.log?.(levels[level] ?? 'info', String(message), extra);
        },
    };
    if (options.ssl !== undefined) config.ssl = options.ssl;
    if (options.sasl !== undefined) config.sasl = options.sasl as SASLOptions;
    this.kafka = new Kafka(config);
  }

  /** A topic's partition count, asked again after METADATA_MAX_AGE_MS (partitions can be added). */
  private async partitions(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined && Date.now() - known.at < METADATA_MAX_AGE_MS) return known.n;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = meta.topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new TransportError('NO_SUCH_PARTITION', `topic ${topic} has no partitions (does it exist?)`, true);
      this.partitionCounts.set(topic, { n, at: Date.now() });
      return n;
    } finally {
      await admin.disconnect();
    }
  }

  async producer(): Promise<Producer> {
    await registerCompressionCodecs();
    const compression = compressionType[this.options.compression ?? 'none'];
    // partitions are chosen by us (murmur2, as the Java client); the partitioner is never consulted
    const producer = this.kafka.producer({ allowAutoTopicCreation: false, idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return {
      send: async (topic, records: OutgoingRecord[]) => {
        const n = await this.partitions(topic);
        // we choose partitions ourselves (Kafka's murmur2 for keys) so that we know each record's offset
        const placed = records.map((r) => r.partition ?? (r.key ? partitionForKey(r.key, n) : this.roundRobin++ % n));
        const out: Array<{ partition: number; offset: number }> = [];
        // one request per SEND_BYTES: a partition's record batch must stay under the broker's
        // message.max.bytes (1 MiB by default), whatever the caller hands over at once
        for (let from = 0; from < records.length;) {
          let to = from;
          let bytes = 0;
          while (to < records.length && (to === from || bytes + recordBytes(records[to]) <= SEND_BYTES)) bytes += recordBytes(records[to++]);
          const meta = await producer
            .send({
              topic,
              acks: -1,
              compression,
              messages: records.slice(from, to).map((r, i) => ({
                key: r.key,
                value: r.value,
                partition: placed[from + i],
                headers: r.headers,
                timestamp: r.timestamp !== undefined ? String(r.timestamp) : undefined,
              })),
            })
            .catch((err: unknown) => {
              this.options.onProducerError?.(err);
              throw fromKafkaError(err, `sending ${to - from} record(s) to ${topic}`);
            });
          const base = new Map(meta.map((m) => [m.partition, Number(m.baseOffset ?? m.offset ?? 0)]));
          const seen = new Map<number, number>();
          for (const partition of placed.slice(from, to)) {
            const index = seen.get(partition) ?? 0;
            seen.set(partition, index + 1);
            out.push({ partition, offset: (base.get(partition) ?? 0) + index });
          }
          from = to;
        }
        return out;
      },
      close: async () => producer.disconnect(),
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    await registerCompressionCodecs();
    const member: ExclusiveMemberState = { joinedAt: Date.now(), ownedSince: 0 };
    // kafkajs restarts a crashed consumer forever by default: a handler that always fails would
    // leave a live process that consumes nothing. Give up after maxRestarts crashes in a row.
    const restarts = { inRow: 0 };
    const maxRestarts = options.maxRestarts ?? 5;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      maxBytes: FETCH_MAX_BYTES,
      // partitions added to a topic are found this soon (kafkajs waits 5 minutes by default)
      metadataMaxAge: METADATA_MAX_AGE_MS,
      // retries of a lost broker wait at most 5 s, so a returning one is found within seconds;
      // a cluster nobody can reach is waited out (the consumer is down meanwhile, and says so),
      // only failures of the handler itself count towards giving up
      retry: {
        retries: options.retries ?? 10,
        initialRetryTime: 300,
        maxRetryTime: 5_000,
        restartOnFailure: async (err) => isUnreachable(err) || ++restarts.inRow <= maxRestarts,
      },
      ...(options.exclusive ? { partitionAssigners: [exclusiveAssigner(member)] } : {}),
    });
    await consumer.connect();
    for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
    return new KafkaConsumerAdapter(consumer, options, member, restarts);
  }

  async admin(): Promise<Admin> {
    const admin = this.kafka.admin();
    await admin.connect();
    return {
      createTopics: async (specs) => createTopicsIdempotent(admin, specs),
      committedOffsets: async (groupId, topic) => {
        const res = await admin.fetchOffsets({ groupId, topics: [topic] });
        return (res[0]?.partitions ?? []).map((p) => ({
          topic,
          partition: p.partition,
          offset: Number(p.offset),
          ...(p.metadata !== null && p.metadata !== '' ? { metadata: p.metadata } : {}),
        }));
      },
      endOffsets: async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, offset: Number(p.high) })),
      startOffsets: async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, offset: Number(p.low) })),
      clusterId: async () => (await admin.describeCluster()).clusterId,
      listTopics: async () => (await admin.listTopics()).filter((t) => !t.startsWith('__')),
      deleteGroup: async (groupId) => {
        try {
          await admin.deleteGroups([groupId]);
        } catch (err) {
          throw fromKafkaError(err, `deleting consumer group ${groupId}`);
        }
      },
      close: async () => admin.disconnect(),
    };
  }
}
