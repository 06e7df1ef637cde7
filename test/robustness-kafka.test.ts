import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger, createRegistry, waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, readImageLabelFile } from '@freshet/datasets';
import { Codecs, imageLabelsStream, IngestProcessor, TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport, type ConsumedRecord } from '@freshet/transport';
import { deploymentEnv, health, startService, stopService, testTrainerEnv, type RunningService, type TrainerHealth, feedData } from './services.js';

const brokers = inject('kafkaBrokers');

/** A metric's value in a service's exposition (summed over its series). */
async function metric(s: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

describe('a record with 20,000 headers, on a real broker', () => {
  it('is dead-lettered as TOO_MANY_HEADERS without holding the event loop, and the record behind it is forwarded', { timeout: 120_000 }, async () => {
    const prefix = `headers-${randomUUID().slice(0, 8)}.`;
    const topics = new TopicCatalogue(prefix);
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'headers-test' });
    const admin = await transport.admin();
    await admin.createTopics(topics.specs(1).map((t) => ({ ...t, partitions: 1 })));
    await admin.close();
    const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
    const codec = new Codecs(registry, topics).raw(imageLabelsStream);
    const headers = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`h${i}`, 'x']));
    const producer = await transport.producer();
    await producer.send(topics.raw('image-labels'), [
      {
        key: Buffer.from('many-headers'),
        value: await codec.encode({ imageId: 'many', labels: ['sky'], eventTime: Date.now(), weight: null, source: null }),
        headers,
      },
      { key: Buffer.from('sentinel'), value: await codec.encode({ imageId: 'sentinel', labels: ['sea'], eventTime: Date.now(), weight: null, source: null }) },
    ]);
    await producer.close();
    // ingest in this process, so its event loop is this one: kafkajs decoded headers in quadratic time (20,000 took 67 s)
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const ingest = new IngestProcessor({
      transport,
      registry,
      topics,
      groupId: `${prefix}ingest`,
      logger: createLogger('headers', { level: 'silent' }),
      metrics: createRegistry('ingest'),
    });
    await ingest.start();
    try {
      await waitFor(() => ingest.handled >= 2, { timeoutMs: 60_000, what: 'ingest to handle both records' });
      loop.disable();
      const forwarded = (await readTopic(transport, topics.train('image-labels'), 1)).map((r) => r.key?.toString());
      expect(forwarded).toEqual(['sentinel']);
      const [letter] = await readTopic(transport, topics.deadLetters, 1);
      const dead = (await new Codecs(registry, topics).deadLetters().decode(letter.value)).value;
      expect([dead.errorCode, dead.originalKey?.toString()]).toEqual(['TOO_MANY_HEADERS', 'many-headers']);
      expect(dead.error).toMatch(/20000 headers, the limit is 100/);
      expect(loop.max / 1e6, 'longest event-loop stall (ms)').toBeLessThan(100);
    } finally {
      await ingest.stop();
    }
  });
});

/** The first `count` records of partition 0 of a topic, read through a throwaway group. */
async function readTopic(transport: KafkaTransport, topic: string, count: number): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const consumer = await transport.consumer({ groupId: `read-${randomUUID()}`, topics: [topic], fromBeginning: true });
  void consumer.run(async (b) => {
    out.push(...b.records);
  });
  await waitFor(() => out.length >= count, { timeoutMs: 30_000, what: `${count} records on ${topic}` });
  await consumer.close();
  return out;
}

describe('failures that used to look healthy, on a real broker', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });

  it('four ingest instances starting together on new topics all come up (topic creation survives the race)', { timeout: 180_000 }, async () => {
    const prefix = `race-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix, 4);
    const started = await Promise.allSettled([0, 1, 2, 3].map(() => startService('ingest', env)));
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    const failures = started.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason).slice(0, 500));
    expect(failures).toEqual([]);
    for (const s of running.filter((r) => r.name === 'ingest')) expect((await fetch(`http://127.0.0.1:${s.port}/readyz`)).status).toBe(200);
  });

  it('a trainer whose checkpoints fail says so: a counter, /healthz, and readiness off after three in a row', { timeout: 180_000 }, async () => {
    const prefix = `ckfail-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix);
    // a checkpoint folder below a regular file cannot be created (root ignores permissions, not this)
    const blocker = join(mkdtempSync(join(tmpdir(), 'freshet-ckfail-')), 'not-a-folder');
    writeFileSync(blocker, 'x');
    running.push(await startService('ingest', env));
    const trainer = await startService('trainer', { ...env, ...testTrainerEnv(join(blocker, 'checkpoints')), FRESHET_CHECKPOINT_EVERY_MS: '500' });
    running.push(trainer);
    const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')).slice(0, 300);
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'ckfail-feeder' });
    const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
    await feedData(transport, registry, new TopicCatalogue(prefix), { images, windows: [], rate: 0 });
    await waitFor(async () => (await health<TrainerHealth>(trainer)).applied >= images.length, { timeoutMs: 60_000, what: 'the trainer to apply the events' });
    // the stream goes on, so checkpoints keep falling due and keep failing
    await feedData(transport, registry, new TopicCatalogue(prefix), { images: images.map((i) => ({ ...i, id: `${i.id}-b` })), windows: [], rate: 0 });
    await waitFor(async () => (await metric(trainer, 'freshet_checkpoint_failures_total')) >= 3, { timeoutMs: 60_000, what: 'three checkpoint failures' });
    const h = await health<TrainerHealth & { checkpoint: { failuresInRow: number; lastSuccess: number } }>(trainer);
    expect(h.checkpoint.failuresInRow).toBeGreaterThanOrEqual(3);
    expect(h.checkpoint.lastSuccess).toBe(0);
    expect((await fetch(`http://127.0.0.1:${trainer.port}/readyz`)).status).toBe(503);
    // still alive: the supervisor should not kill a trainer that holds the only copy of its model
    expect((await fetch(`http://127.0.0.1:${trainer.port}/healthz`)).status).toBe(200);
    expect(trainer.log.join('')).toMatch(/checkpoint failed/);
  });

  it('an event stamped in the year 3000 is dead-lettered and never pins freshness', { timeout: 180_000 }, async () => {
    const prefix = `clock-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix);
    const ingest = await startService('ingest', env);
    running.push(ingest);
    const trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-clock-'))) });
    running.push(trainer);
    const topics = new TopicCatalogue(prefix);
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'clock-feeder' });
    const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
    const codec = new Codecs(registry, topics).raw(imageLabelsStream);
    const producer = await transport.producer();
    const now = Date.now();
    await producer.send(topics.raw('image-labels'), [
      { key: Buffer.from('a'), value: await codec.encode({ imageId: 'a', labels: ['sky'], eventTime: now, weight: null, source: null }) },
      {
        key: Buffer.from('future'),
        value: await codec.encode({ imageId: 'future', labels: ['sky'], eventTime: Date.UTC(3000, 0, 1), weight: null, source: null }),
      },
      { key: Buffer.from('b'), value: await codec.encode({ imageId: 'b', labels: ['sea'], eventTime: now, weight: null, source: null }) },
    ]);
    await producer.close();
    await waitFor(async () => (await health<TrainerHealth>(trainer)).applied >= 2, { timeoutMs: 60_000, what: 'the two valid events' });
    const exposition = await (await fetch(`http://127.0.0.1:${ingest.port}/metrics`)).text();
    expect(exposition).toMatch(/freshet_ingest_rejections_total\{[^}]*code="EVENT_TIME_IN_FUTURE"[^}]*\} 1/);
    // the watermark is the valid events' time, not the year 3000
    const watermark = await metric(trainer, 'freshet_trainer_event_time_high_watermark_seconds');
    expect(watermark * 1000).toBeLessThanOrEqual(Date.now());
    expect(watermark * 1000).toBeGreaterThanOrEqual(now - 1000);
  });
});
