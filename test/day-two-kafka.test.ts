import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, readImageLabelFile } from '@freshet/datasets';
import { Codecs, TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { waitFor } from '@freshet/runtime';
import {
  deploymentEnv,
  everythingApplied,
  expectedCounts,
  expectEveryEventOnce,
  feedData,
  health,
  metricValue,
  startService,
  stopService,
  testTrainerEnv,
  type RunningService,
  type TrainerHealth,
} from './services.js';

const brokers = inject('kafkaBrokers');

/**
 * What operators and producers do to a running deployment on day two, on a real broker with the
 * services as processes: records at the broker's size limit, a raw topic deleted and created
 * again, partitions added, restarts and a second instance, transactional producers. Each case
 * failed from outside before (issue 20); each check here is what an operator would look at.
 */
describe('day two on a real broker', () => {
  const prefix = `day2-${randomUUID().slice(0, 8)}.`;
  const topics = new TopicCatalogue(prefix);
  const env = deploymentEnv(brokers, prefix);
  const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
  const codecs = new Codecs(registry, topics);
  const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'day-two', logLevel: logLevel.NOTHING });
  const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'day-two-feeder' });
  const running: RunningService[] = [];
  let ingest: RunningService;
  let trainer: RunningService;
  /** images fed so far (distinct ids, in order) */
  let fed = 0;
  const feed = async (n: number): Promise<void> => {
    await feedData(transport, registry, topics, { images: images.slice(fed, fed + n), rate: 0 });
    fed += n;
  };
  const expectFedOnce = (what: string): Promise<TrainerHealth> =>
    expectEveryEventOnce(trainer, { images: fed, ...expectedCounts(images.slice(0, fed), []) }, what);
  const rawTopic = topics.raw('image-labels');
  /** lag every running ingest instance reports for the raw topics, summed */
  const ingestLag = async (): Promise<number> => {
    let sum = 0;
    for (const s of running.filter((r) => r.name === 'ingest')) sum += await metricValue(s, 'freshet_consumer_lag_records');
    return sum;
  };

  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });

  it('starts: ingest and trainer train the first events', { timeout: 180_000 }, async () => {
    ingest = await startService('ingest', env);
    trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-day2-'))) });
    running.push(ingest, trainer);
    await feed(300);
    await expectFedOnce('the first events');
  });

  it(
    "a raw record just under the broker's message limit is dead-lettered (its first bytes, size and checksum), the record behind it is forwarded, ingest keeps running",
    { timeout: 120_000 },
    async () => {
      // the largest record the broker takes (message.max.bytes, 1,048,588 by default, less the batch's overhead): it fits, but not inside a dead-letter envelope
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      const handledBefore = (await health<{ handled: number }>(ingest)).handled;
      let value = Buffer.alloc(0);
      for (let size = 1_048_588; value.length === 0; size -= 16) {
        const attempt = Buffer.alloc(size, 7);
        const taken = await producer
          .send({ topic: rawTopic, messages: [{ key: 'huge', value: attempt, partition: 0 }] })
          .then(() => true)
          .catch((err: { type?: string }) => {
            if (err.type !== 'MESSAGE_TOO_LARGE') throw err;
            return false;
          });
        if (taken) value = attempt;
      }
      expect(value.length).toBeGreaterThan(1_048_000);
      await producer.send({
        topic: rawTopic,
        messages: [{ key: images[fed].id, value: await codecs.raw(topics.stream('image-labels')).encode(eventOf(images[fed])), partition: 0 }],
      });
      await producer.disconnect();
      fed += 1;
      await expectFedOnce('the record behind the huge one');
      const letters = await readAll(kafka, topics.deadLetters);
      const huge = await Promise.all(letters.map(async (m) => (await codecs.deadLetters().decode(m)).value));
      const letter = huge.find((d) => d.originalKey?.toString() === 'huge');
      expect(letter, 'a dead letter for the huge record').toBeDefined();
      expect(letter?.errorCode).toBe('RECORD_TOO_LARGE');
      expect(letter?.truncated).toBe(true);
      expect(letter?.originalSize).toBe(value.length);
      expect(letter?.originalCrc).toBe(crc32(value));
      expect(letter?.originalValue?.length ?? 0).toBeLessThan(value.length);
      expect(letter?.offset).toBeGreaterThanOrEqual(0);
      // ingest counts a batch after its commit, which can follow the trainer applying the record
      await waitFor(async () => (await health<{ handled: number }>(ingest)).handled >= handledBefore + 2, {
        timeoutMs: 30_000,
        what: 'ingest to count both records',
      });
      expect(ingest.child.exitCode, 'ingest never exited').toBeNull();
    },
  );

  it(
    'a raw topic deleted and created again: every new event is trained, none skipped as a replay; the new log is counted and said',
    { timeout: 240_000 },
    async () => {
      const skippedBefore = (await health<TrainerHealth>(trainer)).replaysSkipped;
      const admin = kafka.admin();
      await admin.connect();
      const partitions = (await admin.fetchTopicMetadata({ topics: [rawTopic] })).topics[0].partitions.length;
      await admin.deleteTopics({ topics: [rawTopic], timeout: 30_000 });
      await waitFor(async () => !(await admin.listTopics()).includes(rawTopic), { timeoutMs: 60_000, what: 'the raw topic to be gone' });
      await waitFor(
        async () =>
          admin
            .createTopics({ topics: [{ topic: rawTopic, numPartitions: partitions }], waitForLeaders: true })
            .then(() => true)
            .catch(() => false),
        {
          timeoutMs: 60_000,
          what: 'the raw topic to be created again',
        },
      );
      await admin.disconnect();
      // fewer events than before: every new offset is at or below an old one the trainer applied
      await feed(150);
      const h = await expectFedOnce('the events of the recreated topic');
      expect(h.replaysSkipped).toBe(skippedBefore);
      expect(h.logRestarts).toBeGreaterThanOrEqual(1);
      expect(await metricValue(trainer, 'freshet_trainer_log_restarts_total')).toBeGreaterThanOrEqual(1);
      expect(trainer.log.join('')).toMatch(/started over/);
    },
  );

  it('partitions added to a raw topic are read within 30 s', { timeout: 120_000 }, async () => {
    const admin = kafka.admin();
    await admin.connect();
    const before = (await admin.fetchTopicMetadata({ topics: [rawTopic] })).topics[0].partitions.length;
    await admin.createPartitions({ topicPartitions: [{ topic: rawTopic, count: before + 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const codec = codecs.raw(topics.stream('image-labels'));
    const added = images.slice(fed, fed + 40);
    await producer.send({
      topic: rawTopic,
      messages: await Promise.all(added.map(async (img, i) => ({ key: img.id, value: await codec.encode(eventOf(img)), partition: before + (i % 2) }))),
    });
    await producer.disconnect();
    fed += added.length;
    const started = Date.now();
    await waitFor(async () => (await health<TrainerHealth>(trainer)).images >= fed, { timeoutMs: 30_000, what: 'the events on the new partitions' });
    expect(Date.now() - started).toBeLessThan(30_000);
    await expectFedOnce('the events on the new partitions');
  });

  it(
    "lag reads 0 once settled: after an ingest restart, with two ingest instances, and after a transactional producer's commit markers",
    { timeout: 300_000 },
    async () => {
      await waitFor(async () => (await ingestLag()) === 0, { timeoutMs: 30_000, what: 'ingest lag 0 before the restart' });
      // a restart: the new instance resumes from the group's commit
      await stopService(ingest);
      running.splice(running.indexOf(ingest), 1);
      ingest = await startService('ingest', env);
      running.push(ingest);
      await feed(200);
      await expectFedOnce('after the ingest restart');
      await waitFor(async () => (await ingestLag()) === 0, { timeoutMs: 30_000, what: 'ingest lag 0 after the restart' });
      // a second instance in the group: the partitions are split, each reports its own share
      const second = await startService('ingest', env);
      running.push(second);
      await feed(200);
      await expectFedOnce('with two ingest instances');
      await waitFor(async () => (await ingestLag()) === 0, { timeoutMs: 30_000, what: 'the summed lag of two instances to be 0' });
      expect(await metricValue(trainer, 'freshet_consumer_lag_records')).toBe(0);
      await stopService(second);
      running.splice(running.indexOf(second), 1);
      // a transactional producer: every commit leaves a marker in the log that no consumer ever sees
      const producer = kafka.producer({ transactionalId: `day2-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const codec = codecs.raw(topics.stream('image-labels'));
      for (let t = 0; t < 5; t++) {
        const tx = await producer.transaction();
        const batch = images.slice(fed, fed + 20);
        await tx.send({ topic: rawTopic, messages: await Promise.all(batch.map(async (img) => ({ key: img.id, value: await codec.encode(eventOf(img)) }))) });
        await tx.commit();
        fed += batch.length;
      }
      await producer.disconnect();
      await expectFedOnce('the transactional events');
      await everythingApplied(trainer, 'the transactional events');
      await waitFor(async () => (await ingestLag()) === 0, { timeoutMs: 30_000, what: 'ingest lag 0 past the commit markers' });
    },
  );
});

function eventOf(img: { id: string; labels: string[] }): { imageId: string; labels: string[]; eventTime: number; weight: null; source: null } {
  return { imageId: img.id, labels: img.labels, eventTime: Date.now(), weight: null, source: null };
}

/** Every record's value on partition 0 of a topic, read through a throwaway group. */
async function readAll(kafka: Kafka, topic: string): Promise<Buffer[]> {
  const admin = kafka.admin();
  await admin.connect();
  const end = Number((await admin.fetchTopicOffsets(topic))[0].high);
  await admin.disconnect();
  const out: Buffer[] = [];
  const consumer = kafka.consumer({ groupId: `day2-read-${randomUUID()}`, maxBytes: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen++;
      if (message.value) out.push(message.value);
    },
  });
  await waitFor(() => seen >= end, { timeoutMs: 60_000, what: `the ${end} records of ${topic}` });
  await consumer.disconnect();
  return out;
}
