import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { Codecs, imageLabelsStream, TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport, producerCompressions } from '@freshet/transport';
import { classpath } from '../scripts/kafka-broker.mjs';
import { health, repoRoot, startService, stopService, type RunningService } from './services.js';

const brokers = inject('kafkaBrokers');

/** Sends records with Apache Kafka's Java producer (an independent client) and the given compression.type. */
function javaProduce(topic: string, codec: string, records: Array<{ key: string; value: Buffer }>): void {
  const file = join(mkdtempSync(join(tmpdir(), 'freshet-java-')), 'records.tsv');
  writeFileSync(file, records.map((r) => `${r.key}\t${r.value.toString('hex')}`).join('\n') + '\n');
  const r = spawnSync('java', ['-cp', classpath(), join(repoRoot, 'test', 'java', 'CompressedProducer.java'), brokers, topic, codec, file], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, `java producer: ${r.stderr}${r.stdout}`).toBe(0);
}

describe('compressed batches from an independent producer, on a real broker', () => {
  const services: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s)));
  });

  it(
    'ingest reads gzip, snappy, lz4 and zstd batches from the Java client, forwards every record once, and writes compressed batches itself',
    { timeout: 300_000 },
    async () => {
      const prefix = `zip-${randomUUID().slice(0, 8)}.`;
      const topics = new TopicCatalogue(prefix);
      // ingest compresses what it forwards with zstd: the forwarded records are read back below
      const ingest = await startService('ingest', {
        KAFKA_BROKERS: brokers,
        FRESHET_TOPIC_PREFIX: prefix,
        FRESHET_PARTITIONS: '1',
        FRESHET_PRODUCER_COMPRESSION: 'zstd',
      });
      services.push(ingest);
      const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
      const codec = new Codecs(registry, topics).raw(imageLabelsStream);
      const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
      const perCodec = 40;
      let sent = 0;
      for (const c of codecs) {
        const records = await Promise.all(
          Array.from({ length: perCodec }, async (_, i) => ({
            key: `${c}-${i}`,
            value: await codec.encode({ imageId: `${c}-${i}`, labels: ['sky', `${c}-label`], eventTime: Date.now(), weight: null, source: 'java' }),
          })),
        );
        javaProduce(topics.raw('image-labels'), c, records);
        sent += perCodec;
        // each codec's batch is handled before the next is sent: a codec that stopped the consumer shows here
        await waitFor(async () => ((await health<{ handled: number }>(ingest)).handled ?? 0) >= sent, {
          timeoutMs: 60_000,
          what: `ingest to handle the ${c} batch`,
        });
        const h = await fetch(`http://127.0.0.1:${ingest.port}/readyz`);
        expect(h.status, `ingest ready after the ${c} batch`).toBe(200);
      }
      // every record forwarded once (through ingest's own zstd batches), none dead-lettered
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'zip-reader' });
      const admin = await transport.admin();
      const forwarded = (await admin.endOffsets(topics.train('image-labels'))).reduce((n, o) => n + o.offset, 0);
      const dead = (await admin.endOffsets(topics.deadLetters)).reduce((n, o) => n + o.offset, 0);
      await admin.close();
      expect(forwarded).toBe(sent);
      expect(dead).toBe(0);
      const seen = new Set<string>();
      const consumer = await transport.consumer({ groupId: `${prefix}reader`, topics: [topics.train('image-labels')], fromBeginning: true });
      void consumer.run(async (b) => {
        for (const r of b.records) seen.add((await codec.decode(r.value)).value.imageId);
      });
      await waitFor(async () => seen.size >= sent, { timeoutMs: 60_000, what: 'the forwarded records to be read back' });
      await consumer.close();
      expect([...seen].sort()).toEqual(codecs.flatMap((c) => Array.from({ length: perCodec }, (_, i) => `${c}-${i}`)).sort());
    },
  );

  it('our producers write batches in every codec that the broker accepts and our consumers read back', { timeout: 120_000 }, async () => {
    for (const compression of producerCompressions) {
      const topic = `codec-${compression}-${randomUUID().slice(0, 8)}`;
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: `codec-${compression}`, compression });
      const admin = await transport.admin();
      await admin.createTopics([{ topic, partitions: 1 }]);
      await admin.close();
      const producer = await transport.producer();
      const values = Array.from({ length: 300 }, (_, i) => `record ${i} ${'x'.repeat(i % 97)}`);
      // the broker decompresses every batch to validate it: a frame it cannot read fails this send
      await producer.send(
        topic,
        values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v) })),
      );
      await producer.close();
      const got: string[] = [];
      const consumer = await transport.consumer({ groupId: `codec-reader-${randomUUID()}`, topics: [topic], fromBeginning: true });
      void consumer.run(async (b) => {
        for (const r of b.records) got.push(r.value?.toString() ?? '');
      });
      await waitFor(async () => got.length >= values.length, { timeoutMs: 60_000, what: `the ${compression} records read back` });
      await consumer.close();
      expect(got, compression).toEqual(values);
    }
  });
});
