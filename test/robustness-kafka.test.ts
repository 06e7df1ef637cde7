import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, readImageLabelFile } from '@freshet/datasets';
import { Codecs, imageLabelsStream, TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { deploymentEnv, health, startService, stopService, testTrainerEnv, type RunningService, type TrainerHealth, feedData } from './services.js';

const brokers = inject('kafkaBrokers');

/** A metric's value in a service's exposition (summed over its series). */
async function metric(s: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
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
