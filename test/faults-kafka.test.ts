import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import type { Schema } from 'avsc';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { TopicCatalogue, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import {
  deploymentEnv,
  everythingApplied,
  expectedCounts,
  expectEveryEventOnce,
  health,
  metricValue,
  repoRoot,
  startService,
  stopService,
  testTrainerEnv,
  type RunningService,
  type TrainerHealth,
  feedData,
} from './services.js';

const brokers = inject('kafkaBrokers');

const trainerHealth = (s: RunningService): Promise<TrainerHealth> => health<TrainerHealth>(s);

describe('faults on a real Kafka broker', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });

  it(
    'kill -9 of the trainer mid-stream: the restarted trainer resumes from its checkpoint and every event counts exactly once',
    { timeout: 300_000 },
    async () => {
      const prefix = `fault-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix);
      const trainerEnv = { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-fault-'))) };
      const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
      const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 4000);
      // what the model must hold at the end if every event is applied exactly once
      const { labelPairs, tokens } = expectedCounts(images, windows);
      running.push(await startService('ingest', env));
      let trainer = await startService('trainer', trainerEnv);
      running.push(trainer);
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'fault-feeder' });
      const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
      const topics = new TopicCatalogue(prefix);
      const half = { images: images.slice(0, 2000), windows: windows.slice(0, 2000) };
      await feedData(transport, registry, topics, { ...half, rate: 0 });
      await waitFor(async () => (await trainerHealth(trainer)).applied >= 4000, { timeoutMs: 120_000, what: 'the first half' });
      // more events, then kill -9 while the trainer holds work past its last checkpoint
      await feedData(transport, registry, topics, { images: images.slice(2000, 2500), windows: windows.slice(2000, 2500), rate: 0 });
      await waitFor(async () => (await trainerHealth(trainer)).applied >= 4500, { timeoutMs: 120_000, what: 'the extra events' });
      await stopService(trainer, 'SIGKILL');
      running.splice(running.indexOf(trainer), 1);
      await feedData(transport, registry, topics, { images: images.slice(2500), windows: windows.slice(2500), rate: 0 });
      trainer = await startService('trainer', trainerEnv);
      running.push(trainer);
      await expectEveryEventOnce(trainer, { images: images.length, labelPairs, tokens }, 'every event applied after the restart');
    },
  );
});

describe('broker restart', () => {
  it(
    'a lost broker: every service unready within 30 s and ready within 30 s of its return, reconnecting by itself; nothing acknowledged is lost',
    { timeout: 300_000 },
    async () => {
      const { startBroker, stopBroker, restartBroker } = await import('../scripts/kafka-broker.mjs');
      const dir = mkdtempSync(join(tmpdir(), 'freshet-restart-broker-'));
      const broker = await startBroker(join(dir, 'broker'));
      const services: RunningService[] = [];
      try {
        const env = deploymentEnv(broker.brokers, 'restart.');
        services.push(await startService('ingest', env));
        const trainer = await startService('trainer', { ...env, ...testTrainerEnv(join(dir, 'ck')) });
        services.push(trainer);
        services.push(await startService('publisher', env));
        const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
        const { labelPairs } = expectedCounts(images, []);
        const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
        const topics = new TopicCatalogue('restart.');
        const feed = async (from: number, to: number): Promise<void> => {
          const transport = new KafkaTransport({ brokers: [broker.brokers], clientId: 'restart-feeder' });
          await feedData(transport, registry, topics, { images: images.slice(from, to), windows: [], rate: 0 });
        };
        await feed(0, 2000);
        await waitFor(async () => (await trainerHealth(trainer)).applied >= 2000, { timeoutMs: 120_000, what: 'the first half' });
        const ready = async (s: RunningService): Promise<boolean> => (await fetch(`http://127.0.0.1:${s.port}/readyz`)).status === 200;
        await stopBroker(broker.dir, { removeData: false });
        // a lost cluster is not "consuming": every service turns unready, and its consumer down, within 30 s (kafkajs retries for minutes)
        const lost = Date.now();
        await waitFor(async () => (await Promise.all(services.map(ready))).every((r) => !r), {
          timeoutMs: 45_000,
          what: 'every service to turn unready without its broker',
        });
        expect(Date.now() - lost).toBeLessThan(30_000);
        for (const s of services) expect(await metricValue(s, 'freshet_consumer_up'), `${s.name} consumer down`).toBe(0);
        for (const s of services) expect(s.child.exitCode, `${s.name} waits for its cluster`).toBeNull();
        await restartBroker(broker.dir);
        // and ready again within 30 s of its return
        const back = Date.now();
        await waitFor(async () => (await Promise.all(services.map(ready))).every((r) => r), { timeoutMs: 45_000, what: 'every service to be ready again' });
        expect(Date.now() - back).toBeLessThan(30_000);
        // the feeder's records after the restart are acknowledged by the restarted broker
        await feed(2000, images.length);
        await waitFor(async () => (await trainerHealth(trainer)).labelPairs >= labelPairs, { timeoutMs: 180_000, what: 'every event after the restart' });
        await everythingApplied(trainer, 'after the restart');
        const h = await trainerHealth(trainer);
        expect(h.images).toBe(images.length);
        expect(h.labelPairs).toBe(labelPairs);
        for (const s of services) expect(s.child.exitCode, `${s.name} kept running`).toBeNull();
      } finally {
        await Promise.all(services.map((s) => stopService(s, 'SIGKILL')));
        await stopBroker(broker.dir);
      }
    },
  );
});

describe('publisher killed between the chunks of a snapshot', () => {
  it('a downstream reader never assembles the half-written version; the next publisher completes one', { timeout: 300_000 }, async () => {
    const prefix = `pubkill-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix);
    const services: RunningService[] = [];
    try {
      services.push(await startService('ingest', env));
      const trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-pubkill-'))) });
      services.push(trainer);
      const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
      const topics = new TopicCatalogue(prefix);
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'pubkill-feeder' });
      await feedData(transport, new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)), topics, { images, windows: [], rate: 0 });
      await waitFor(async () => (await trainerHealth(trainer)).applied >= images.length, { timeoutMs: 120_000, what: 'training' });
      // enough model updates on the topic for a snapshot of more than two 16 KiB chunks
      const admin = await transport.admin();
      await waitFor(async () => (await admin.endOffsets(topics.modelUpdates)).reduce((n, o) => n + o.offset, 0) >= 500, {
        timeoutMs: 60_000,
        what: 'the trainer to publish its updates',
      });
      await admin.close();
      // small chunks, and a publisher that dies after writing two of them
      // the fault comes from outside the service: a module loaded first that exits on the third chunk
      const hook = pathToFileURL(join(repoRoot, 'test', 'hooks', 'exit-after-snapshot-chunks.mjs')).href;
      const dying = await startService('publisher', {
        ...env,
        FRESHET_PUBLISH_EVERY_MS: '500',
        FRESHET_CHUNK_BYTES: '16384',
        FRESHET_TEST_EXIT_AFTER_CHUNKS: '2',
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim(),
      });
      const exit = await new Promise<number | null>((resolve) => {
        if (dying.child.exitCode !== null) resolve(dying.child.exitCode);
        else dying.child.once('exit', (code) => resolve(code));
      });
      expect(exit).toBe(137);
      const { Kafka, logLevel } = await import('kafkajs');
      const avro = (await import('avsc')).default;
      const { readFileSync } = await import('node:fs');
      const manifestType = avro.Type.forSchema(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'snapshot-manifest.v4.avsc'), 'utf8')) as Schema);
      const readTopic = async (): Promise<{ keys: string[]; manifests: number[] }> => {
        const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'pubkill-reader', logLevel: logLevel.NOTHING });
        const admin = kafka.admin();
        await admin.connect();
        const end = Number((await admin.fetchTopicOffsets(topics.snapshots))[0].high);
        await admin.disconnect();
        const consumer = kafka.consumer({ groupId: `pubkill-reader-${randomUUID()}` });
        await consumer.connect();
        await consumer.subscribe({ topic: topics.snapshots, fromBeginning: true });
        const keys: string[] = [];
        const manifests: number[] = [];
        await consumer.run({
          eachMessage: async ({ message }) => {
            keys.push(message.key?.toString() ?? '');
            // whole versions and deltas; a delta names its chain too, and no link may be the orphan
            const key = message.key?.toString();
            if ((key === 'manifest' || key === 'delta') && message.value) {
              const m = manifestType.fromBuffer(message.value.subarray(5)) as { version: number; chain: Array<{ version: number }> };
              manifests.push(m.version, ...m.chain.map((l) => l.version));
            }
          },
        });
        await waitFor(() => keys.length >= end, { timeoutMs: 60_000, what: `the ${end} records of the snapshot topic`, intervalMs: 200 });
        await consumer.disconnect();
        return { keys, manifests };
      };
      const afterCrash = await readTopic();
      expect(afterCrash.keys.length).toBe(2);
      expect(afterCrash.manifests).toEqual([]);
      const healthy = await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '500', FRESHET_CHUNK_BYTES: '16384' });
      services.push(healthy);
      let after = afterCrash;
      await waitFor(
        async () => {
          after = await readTopic();
          return after.manifests.length > 0;
        },
        { timeoutMs: 120_000, what: 'a complete snapshot' },
      );
      // the half-written version's chunks stay orphaned: no manifest ever names their version
      const orphan = afterCrash.keys[0];
      expect(after.manifests.map((v) => `v${v}`)).not.toContain(orphan);
    } finally {
      await Promise.all(services.map((s) => stopService(s, 'SIGKILL')));
    }
  });
});
