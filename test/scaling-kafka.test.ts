import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { normaliseImageLabel, readCheckpointHeader, SnapshotReader, TopicCatalogue, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import {
  deploymentEnv,
  expectedCounts,
  expectEveryEventOnce,
  health,
  publisherActive,
  startService,
  stopService,
  testTrainerEnv,
  type IngestHealth,
  type RunningService,
  type TrainerHealth,
  feedData,
} from './services.js';

const brokers = inject('kafkaBrokers');

/**
 * Two instances of a service in one consumer group, on a real broker. Ingest is stateless and
 * shares the partitions; the trainer's model cannot be split, so its group is active/standby.
 */
describe('two instances in one consumer group', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });
  const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
  const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 3000);
  const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));

  /** Ingest, an active trainer and a standby one sharing `trainerEnv` (and its checkpoint directory). */
  async function trainerPair(env: Record<string, string>, trainerEnv: Record<string, string>): Promise<{ first: RunningService; second: RunningService }> {
    running.push(await startService('ingest', env));
    const first = await startService('trainer', trainerEnv);
    running.push(first);
    await waitFor(async () => (await health<TrainerHealth>(first)).role === 'active', { timeoutMs: 60_000, what: 'the first trainer to own the partitions' });
    const second = await startService('trainer', trainerEnv);
    running.push(second);
    return { first, second };
  }

  /** Ingest, a trainer, an active publisher and a standby one, and a snapshot reader (started). */
  async function publisherPair(prefix: string, env: Record<string, string>, publisherEnv: Record<string, string>) {
    running.push(await startService('ingest', env));
    running.push(await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-pub-'))) }));
    const first = await startService('publisher', publisherEnv);
    running.push(first);
    await waitFor(async () => publisherActive(first), { timeoutMs: 60_000, what: 'the first publisher to own the updates' });
    const second = await startService('publisher', publisherEnv);
    running.push(second);
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: `${prefix}feeder` });
    const topics = new TopicCatalogue(prefix);
    const reader = new SnapshotReader(transport, registry, topics, `${prefix}reader`);
    await reader.start();
    return { first, second, transport, topics, reader };
  }

  it(
    'ingest: two instances split the partitions; when one leaves the survivor takes them all and every event reaches the model once',
    { timeout: 300_000 },
    async () => {
      const prefix = `scale-ingest-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix, 4);
      const { labelPairs, tokens } = expectedCounts(images, windows);
      const a = await startService('ingest', env);
      running.push(a);
      const b = await startService('ingest', env);
      running.push(b);
      const trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-scale-'))) });
      running.push(trainer);
      // 2 raw topics x 4 partitions: four each once the group has settled
      await waitFor(async () => (await health<IngestHealth>(a)).partitions === 4 && (await health<IngestHealth>(b)).partitions === 4, {
        timeoutMs: 60_000,
        what: 'the partitions split between both instances',
      });
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'scale-feeder' });
      const topics = new TopicCatalogue(prefix);
      await feedData(transport, registry, topics, { images: images.slice(0, 2000), windows: windows.slice(0, 1500), rate: 0 });
      await waitFor(async () => (await health<TrainerHealth>(trainer)).applied >= 3500, { timeoutMs: 120_000, what: 'the first half' });
      // an instance counts a batch as handled after its offsets commit, which can follow the
      // trainer applying what it forwarded: wait for the counts to catch up, then demand exactness
      const handledBoth = async (): Promise<[number, number]> => [(await health<IngestHealth>(a)).handled, (await health<IngestHealth>(b)).handled];
      await waitFor(async () => (await handledBoth()).reduce((x, y) => x + y) >= 3500, { timeoutMs: 30_000, what: 'both instances to count the first half' });
      const [handledA, handledB] = await handledBoth();
      expect(handledA).toBeGreaterThan(0);
      expect(handledB).toBeGreaterThan(0);
      expect(handledA + handledB).toBe(3500);
      // b leaves the group (SIGTERM: it finishes its batch, commits and leaves)
      expect(await stopService(b)).toBe(0);
      running.splice(running.indexOf(b), 1);
      await waitFor(async () => (await health<IngestHealth>(a)).partitions === 8, { timeoutMs: 60_000, what: 'the survivor owning every partition' });
      await feedData(transport, registry, topics, { images: images.slice(2000), windows: windows.slice(1500), rate: 0 });
      await expectEveryEventOnce(trainer, { images: images.length, labelPairs, tokens }, 'every event applied');
      const rest = images.length + windows.length - handledB;
      await waitFor(async () => (await health<IngestHealth>(a)).handled >= rest, { timeoutMs: 30_000, what: 'the survivor to count the rest' });
      expect((await health<IngestHealth>(a)).handled).toBe(rest);
    },
  );

  it(
    'trainer: the second instance stands by, takes over from the checkpoint when the active one is killed, and every event counts exactly once',
    { timeout: 300_000 },
    async () => {
      const prefix = `scale-trainer-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix);
      // both instances see one checkpoint directory (a shared volume in production)
      const trainerEnv = { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-standby-'))) };
      const { labelPairs, tokens } = expectedCounts(images, windows);
      const { first, second } = await trainerPair(env, trainerEnv);
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'standby-feeder' });
      const topics = new TopicCatalogue(prefix);
      await feedData(transport, registry, topics, { images: images.slice(0, 2500), windows: windows.slice(0, 1500), rate: 0 });
      await waitFor(async () => (await health<TrainerHealth>(first)).applied >= 4000, { timeoutMs: 120_000, what: 'the first part' });
      // the standby applied nothing while the active instance trained
      expect(await health<TrainerHealth>(second)).toMatchObject({ role: 'standby', applied: 0 });
      expect((await health<TrainerHealth>(first)).role).toBe('active');
      await stopService(first, 'SIGKILL');
      running.splice(running.indexOf(first), 1);
      await feedData(transport, registry, topics, { images: images.slice(2500), windows: windows.slice(1500), rate: 0 });
      // the session of the killed instance expires (10 s), the standby inherits every partition
      await waitFor(async () => (await health<TrainerHealth>(second)).role === 'active', { timeoutMs: 90_000, what: 'the standby to take over' });
      const h = await expectEveryEventOnce(second, { images: images.length, labelPairs, tokens }, 'every event applied by the new owner');
      // it restored the first instance's checkpoint instead of starting over: it applied less than everything
      expect(h.applied).toBeLessThan(images.length + windows.length);
    },
  );

  it(
    'publisher: the standby takes over from a killed active one and its next snapshot holds the whole model, rebuilt from the latest-vector topic',
    { timeout: 300_000 },
    async () => {
      const prefix = `scale-pub-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix);
      const publisherEnv = { ...env, FRESHET_PUBLISH_EVERY_MS: '1000' };
      const { first, second, transport, topics, reader } = await publisherPair(prefix, env, publisherEnv);
      try {
        await feedData(transport, registry, topics, { images: images.slice(0, 3000), windows: [], rate: 0 });
        await waitFor(async () => (reader.current?.tables.get('IMAGE')?.vocab.size ?? 0) === 3000, {
          timeoutMs: 120_000,
          what: 'a snapshot of the first 3,000 images',
        });
        expect((await health<{ snapshots: number }>(second)).snapshots).toBe(0);
        await stopService(first, 'SIGKILL');
        running.splice(running.indexOf(first), 1);
        const before = reader.current?.version ?? 0;
        // a few new images: the only model updates the standby will consume after taking over
        await feedData(transport, registry, topics, { images: images.slice(3000, 3050), windows: [], rate: 0 });
        await waitFor(async () => (await health<{ snapshots: number }>(second)).snapshots > 0 && (reader.current?.version ?? 0) > before, {
          timeoutMs: 120_000,
          what: 'a snapshot from the standby',
        });
        // the standby's first version already holds the images it never saw updates for
        expect(reader.current?.tables.get('IMAGE')?.vocab.size).toBeGreaterThanOrEqual(3000);
        await waitFor(async () => reader.current?.tables.get('IMAGE')?.vocab.size === 3050, { timeoutMs: 60_000, what: 'the new images in a snapshot' });
        const labels = new Set<string>();
        for (const img of images.slice(0, 3050)) {
          const n = normaliseImageLabel({ imageId: img.id, labels: img.labels, eventTime: 1, weight: null, source: null });
          if (n.ok) for (const l of n.value.labels) labels.add(l);
        }
        expect(reader.current?.tables.get('LABEL')?.vocab.size).toBe(labels.size);
      } finally {
        await reader.stop();
      }
    },
  );

  it(
    'publisher split brain: a publisher paused past its session and woken after the standby took over never publishes its stale state',
    { timeout: 300_000 },
    async () => {
      const prefix = `scale-pubpause-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix);
      const publisherEnv = { ...env, FRESHET_PUBLISH_EVERY_MS: '4000' };
      type PublisherHealth = { snapshots: number; pending: number };
      const { first, second, transport, topics, reader } = await publisherPair(prefix, env, publisherEnv);
      const imagesSeen = (): number => reader.current?.tables.get('IMAGE')?.vocab.size ?? 0;
      try {
        await feedData(transport, registry, topics, { images: images.slice(0, 1000), windows: [], rate: 0 });
        await waitFor(async () => imagesSeen() === 1000, { timeoutMs: 120_000, what: 'a snapshot of 1,000 images' });
        // more images; freeze the active publisher while it holds their updates unpublished
        await feedData(transport, registry, topics, { images: images.slice(1000, 1500), windows: [], rate: 0 });
        await waitFor(async () => (await health<PublisherHealth>(first)).pending > 0, { timeoutMs: 60_000, what: 'updates pending in the first publisher' });
        const snapshotsBeforePause = (await health<PublisherHealth>(first)).snapshots;
        first.child.kill('SIGSTOP');
        await waitFor(async () => (await health<PublisherHealth>(second)).snapshots > 0 && imagesSeen() === 1500, {
          timeoutMs: 90_000,
          what: 'the standby to take over and publish',
        });
        await feedData(transport, registry, topics, { images: images.slice(1500, 2000), windows: [], rate: 0 });
        await waitFor(async () => imagesSeen() === 2000, { timeoutMs: 60_000, what: 'a snapshot of 2,000 images' });
        // wake the stale one: its overdue timer wants to publish what it held when it froze
        first.child.kill('SIGCONT');
        let fewest = imagesSeen();
        const watchUntil = Date.now() + 10_000;
        while (Date.now() < watchUntil) {
          fewest = Math.min(fewest, imagesSeen());
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(fewest, 'readers never went back to an older model').toBe(2000);
        // the woken publisher either stands by (no snapshot since it froze) or, finding its group
        // gone, exits for its supervisor to restart it as a standby: never a stale snapshot
        if (first.child.exitCode === null) expect((await health<PublisherHealth>(first)).snapshots).toBe(snapshotsBeforePause);
        else expect(first.log.join(''), `exit ${first.child.exitCode}`).toMatch(/consumer crashed|stopped|rebalanc|not a member|UNKNOWN_MEMBER_ID|generation/i);
      } finally {
        await reader.stop();
      }
    },
  );

  it(
    'trainer split brain: an active instance paused past its session loses to the standby, and on waking steps down (exit 75) without overwriting its checkpoint',
    { timeout: 300_000 },
    async () => {
      const prefix = `scale-pause-${randomUUID().slice(0, 8)}.`;
      const env = deploymentEnv(brokers, prefix);
      const checkpointDir = mkdtempSync(join(tmpdir(), 'freshet-pause-'));
      const trainerEnv = { ...env, ...testTrainerEnv(checkpointDir) };
      const { labelPairs, tokens } = expectedCounts(images, windows);
      const { first, second } = await trainerPair(env, trainerEnv);
      // who wrote the checkpoint, watched every 50 ms for the whole test
      const writers: string[] = [];
      const watch = setInterval(() => {
        try {
          const h = readCheckpointHeader(join(checkpointDir, 'trainer.ckpt'));
          const who = String(h?.instance ?? '');
          if (who !== '' && writers[writers.length - 1] !== who) writers.push(who);
        } catch {
          // mid-rename: read again next time
        }
      }, 50);
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'pause-feeder' });
      const topics = new TopicCatalogue(prefix);
      await feedData(transport, registry, topics, { images: images.slice(0, 1500), windows: windows.slice(0, 1000), rate: 0 });
      await waitFor(async () => (await health<TrainerHealth>(first)).applied >= 2500, { timeoutMs: 120_000, what: 'the first part' });
      await waitFor(async () => writers.length === 1, { timeoutMs: 60_000, what: 'the first instance to write a checkpoint' });
      // freeze the active instance (as a long GC pause or a suspended VM would) past its 10 s session
      first.child.kill('SIGSTOP');
      const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
      await feedData(transport, registry, topics, { images: images.slice(1500, 3000), windows: windows.slice(1000, 2000), rate: 0 });
      await waitFor(async () => (await health<TrainerHealth>(second)).role === 'active', { timeoutMs: 90_000, what: 'the standby to take over' });
      await waitFor(async () => (await health<TrainerHealth>(second)).applied > 0, { timeoutMs: 60_000, what: 'the new owner to train' });
      // the fence under test: the checkpoint the frozen one finds on waking is the new owner's
      await waitFor(async () => writers.length === 2, { timeoutMs: 60_000, what: 'the new owner to write a checkpoint' });
      // the frozen one wakes up believing it still owns everything
      first.child.kill('SIGCONT');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
      expect(code, first.log.join('').slice(-2000)).toBe(75);
      running.splice(running.indexOf(first), 1);
      await feedData(transport, registry, topics, { images: images.slice(3000), windows: windows.slice(2000), rate: 0 });
      const h = await expectEveryEventOnce(second, { images: images.length, labelPairs, tokens }, 'every event applied by the new owner');
      clearInterval(watch);
      expect(h.role).toBe('active');
      // the checkpoint passed from the first writer to the second once, and never back
      expect(writers.length, writers.join(' -> ')).toBe(2);
    },
  );
});
