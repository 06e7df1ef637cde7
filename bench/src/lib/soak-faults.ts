import { Kafka, logLevel } from 'kafkajs';
import type { AvroCodec } from '@freshet/avro';
import type { ImageLabelEvent, TopicCatalogue } from '@freshet/pipeline';
import type { BenchService } from './services.js';

/**
 * The day-two faults of the soak, each done to the running services from outside as an operator
 * or a producer would: the broker restarted, a raw topic deleted and created again, and a poison
 * record on every raw partition. Each returns what it did and how the services took it.
 */

/** Waits until `ok()` or the deadline; how long it took (null: never). */
async function within(ms: number, ok: () => Promise<boolean>): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await ok().catch(() => false)) return (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  return null;
}

const ready = async (s: BenchService): Promise<boolean> => (await fetch(`http://127.0.0.1:${s.port}/readyz`)).status === 200;

export interface BrokerRestart {
  atSeconds: number;
  /** seconds from the broker's stop until every service reported itself unready (null: never) */
  allUnreadySeconds: number | null;
  /** seconds from the broker's return until every service was ready again (null: never) */
  allReadySeconds: number | null;
}

/** Stops the broker, waits until the services say they lost it, starts it again, waits until they are ready. */
export async function restartBroker(
  services: () => readonly BenchService[],
  broker: { stop: () => Promise<void>; start: () => Promise<void> },
  t0: number,
): Promise<BrokerRestart> {
  const atSeconds = (Date.now() - t0) / 1000;
  await broker.stop();
  const allUnreadySeconds = await within(60_000, async () => (await Promise.all(services().map((s) => ready(s).catch(() => false)))).every((r) => !r));
  await broker.start();
  const allReadySeconds = await within(90_000, async () => (await Promise.all(services().map(ready))).every(Boolean));
  return { atSeconds, allUnreadySeconds, allReadySeconds };
}

export interface TopicRecreation {
  topic: string;
  atSeconds: number;
  partitions: number;
}

/**
 * Deletes a raw topic and creates it again, once ingest has forwarded every record in it (so no
 * event is lost with the old log: the soak counts every event into the model). The new log's
 * offsets start at 0, below the old ones the trainer applied: its events must be trained, not
 * skipped as replays.
 */
export async function recreateRawTopic(brokers: string, topic: string, ingestGroup: string, t0: number): Promise<TopicRecreation> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'soak-operator', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const forwarded = await within(180_000, async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = (await admin.fetchOffsets({ groupId: ingestGroup, topics: [topic] }))[0]?.partitions ?? [];
      return ends.every((e) => Number(committed.find((c) => c.partition === e.partition)?.offset ?? -1) >= Number(e.high));
    });
    if (forwarded === null) throw new Error(`soak: ingest did not forward every record of ${topic} before its deletion`);
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
    const atSeconds = (Date.now() - t0) / 1000;
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
    if ((await within(60_000, async () => !(await admin.listTopics()).includes(topic))) === null) throw new Error(`soak: ${topic} was not deleted`);
    const created = await within(60_000, async () => {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      return (await admin.listTopics()).includes(topic);
    });
    if (created === null) throw new Error(`soak: ${topic} was not created again`);
    return { topic, atSeconds, partitions };
  } finally {
    await admin.disconnect();
  }
}

/** Avro's encoding of a long: zig-zag, then 7 bits a byte. */
function zigzagVarint(n: number): Buffer {
  const out: number[] = [];
  let z = n * 2;
  while (z >= 0x80) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return Buffer.from(out);
}

/** Poison records: one per raw partition, cycling through these kinds. */
const POISONS = ['hostile-array-count', 'near-message-limit', 'twenty-thousand-headers', 'random-bytes'] as const;

/**
 * Sends one poison record to every partition of every raw topic: an Avro body whose array count
 * claims 178 million items (it took the process down before avsc was patched), a record near the
 * broker's message limit (too big to dead-letter whole), 20,000 headers (kafkajs decoded them in
 * quadratic time), random bytes. Each must be dead-lettered and its partition move on.
 */
export async function sendPoison(brokers: string, topics: TopicCatalogue, codec: AvroCodec<ImageLabelEvent>): Promise<number> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'soak-poison', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const good = await codec.encode({ imageId: 'x', labels: ['a'], eventTime: Date.now(), weight: null, source: null });
  let sent = 0;
  try {
    for (const topic of topics.streams.map((st) => topics.raw(st))) {
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
      for (let p = 0; p < partitions; p++) {
        const kind = POISONS[sent % POISONS.length];
        const key = `poison-${kind}-${topic}-${p}`;
        const message =
          kind === 'hostile-array-count'
            ? { key, value: Buffer.concat([good.subarray(0, 5), Buffer.from([2, 0x31]), zigzagVarint(178_414_678), Buffer.alloc(16)]) }
            : kind === 'near-message-limit'
              ? { key, value: Buffer.alloc(1_040_000, 7) }
              : kind === 'twenty-thousand-headers'
                ? { key, value: good, headers: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`h${i}`, 'x'])) }
                : { key, value: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + p * 17) % 256)) };
        await producer.send({ topic, messages: [{ ...message, partition: p }] });
        sent++;
      }
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return sent;
}

/** The keys of the dead-letter topic's records that name a raw record (topic, partition, offset), distinct, and any that are not poison. */
export async function deadLetterKeys(
  brokers: string,
  topic: string,
  decode: (value: Buffer) => Promise<{ originalKey: Buffer | null; topic: string; partition: number; offset: number }>,
): Promise<{ distinct: number; total: number; notPoison: string[] }> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'soak-dead-letters', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const end = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const seen = new Set<string>();
  const notPoison: string[] = [];
  let total = 0;
  if (end === 0) return { distinct: 0, total: 0, notPoison };
  const consumer = kafka.consumer({ groupId: `soak-dead-letters-${Date.now()}`, maxBytes: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      total++;
      if (message.value === null) return;
      const d = await decode(message.value);
      const key = d.originalKey?.toString() ?? '';
      seen.add(`${d.topic}#${d.partition}@${d.offset}`);
      if (!key.startsWith('poison-')) notPoison.push(key);
    },
  });
  await within(60_000, async () => total >= end);
  await consumer.disconnect();
  return { distinct: seen.size, total, notPoison };
}
