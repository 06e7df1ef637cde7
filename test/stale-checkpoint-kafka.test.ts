import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, loadCorpusSentences, readImageLabelFile } from '@freshet/datasets';
import { TopicCatalogue, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import {
  deploymentEnv,
  expectedCounts,
  expectEveryEventOnce,
  health,
  repoRoot,
  startService,
  stopService,
  testTrainerEnv,
  type RunningService,
  type TrainerHealth,
  feedData,
} from './services.js';

/** Starts a trainer that is expected to refuse: its exit status and its log. */
async function failingTrainer(env: Record<string, string>): Promise<{ code: number | null; log: string }> {
  try {
    const s = await startService('trainer', env);
    const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
    return { code: await exited, log: s.log.join('') };
  } catch (err) {
    const m = /trainer exited \((\d+)\):\n([\s\S]*)/.exec((err as Error).message);
    if (m === null) throw err;
    return { code: Number(m[1]), log: m[2] };
  }
}

describe('a checkpoint from an earlier broker', () => {
  it(
    'stop, wipe the broker, restart: the trainer refuses with what to do; reset-to-checkpoint keeps the model and trains the new log; freshet reset starts fresh',
    { timeout: 600_000 },
    async () => {
      const { startBroker, stopBroker } = await import('../scripts/kafka-broker.mjs');
      const root = mkdtempSync(join(tmpdir(), 'freshet-stale-'));
      const checkpoints = join(root, 'checkpoints');
      const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
      const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 1000);
      const first = { images: images.slice(0, 800), windows: windows.slice(0, 500) };
      const second = { images: images.slice(800, 1500), windows: windows.slice(500) };
      const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
      const prefix = 'stale.';
      const topics = new TopicCatalogue(prefix);
      const running: RunningService[] = [];
      const stopAll = async (): Promise<void> => {
        await Promise.all(running.splice(0).map((s) => stopService(s)));
      };

      // 1. a deployment on broker A trains the first events and stops cleanly (a final checkpoint)
      const a = await startBroker(join(root, 'broker-a'));
      let env = deploymentEnv(a.brokers, prefix);
      const trainerEnv = (): Record<string, string> => ({ ...env, ...testTrainerEnv(checkpoints) });
      running.push(await startService('ingest', env));
      const t1 = await startService('trainer', trainerEnv());
      running.push(t1);
      await feedData(new KafkaTransport({ brokers: [a.brokers], clientId: 'stale-a' }), registry, topics, { ...first, rate: 0 });
      await expectEveryEventOnce(t1, { images: first.images.length, ...expectedCounts(first.images, first.windows) }, 'the first events on broker A');
      await stopAll();
      expect(existsSync(join(checkpoints, 'trainer.ckpt'))).toBe(true);

      // 2. the broker's data is wiped (a new cluster); the checkpoint stays, new events arrive
      await stopBroker(a.dir, { removeData: true });
      const b = await startBroker(join(root, 'broker-b'));
      try {
        env = deploymentEnv(b.brokers, prefix);
        running.push(await startService('ingest', env));
        await feedData(new KafkaTransport({ brokers: [b.brokers], clientId: 'stale-b' }), registry, topics, { ...second, rate: 0 });

        // the default policy refuses, saying why and what to do; it never skips the new log silently
        const refused = await failingTrainer(trainerEnv());
        expect(refused.code, refused.log.slice(-2000)).not.toBe(0);
        expect(refused.log).toMatch(/does not belong to this log/);
        expect(refused.log).toMatch(/freshet reset/);

        // reset-to-checkpoint: the model of broker A is kept and the whole new log is trained
        const kept = await startService('trainer', { ...trainerEnv(), FRESHET_ON_STALE_CHECKPOINT: 'reset-to-checkpoint' });
        running.push(kept);
        const both = expectedCounts([...first.images, ...second.images], [...first.windows, ...second.windows]);
        await expectEveryEventOnce(kept, { images: first.images.length + second.images.length, ...both }, 'the old model plus every new event');
        expect((await health<TrainerHealth>(kept)).role).toBe('active');
        await stopAll();

        // freshet reset: checkpoints and group offsets gone, the next trainer starts empty on the new log
        const r = spawnSync(
          process.execPath,
          [
            join(repoRoot, 'tools', 'cli', 'dist', 'main.js'),
            'reset',
            '--brokers',
            b.brokers,
            '--topic-prefix',
            prefix,
            '--checkpoint-dir',
            checkpoints,
            '--yes',
          ],
          { encoding: 'utf8' },
        );
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({
          command: 'reset',
          groupsDeleted: expect.arrayContaining([`${prefix}freshet-trainer`]),
        });
        expect(existsSync(join(checkpoints, 'trainer.ckpt'))).toBe(false);
        const fresh = await startService('trainer', trainerEnv());
        running.push(fresh);
        // no ingest runs any more (and reset removed its group): the training topics hold every event
        await expectEveryEventOnce(
          fresh,
          { images: second.images.length, ...expectedCounts(second.images, second.windows) },
          'only the new events, from an empty model',
          { ingest: false },
        );
        await waitFor(async () => (await health<TrainerHealth>(fresh)).applied >= second.images.length + second.windows.length, {
          timeoutMs: 30_000,
          what: 'the fresh trainer',
        });
      } finally {
        await stopAll();
        await stopBroker(b.dir, { removeData: true });
      }
    },
  );
});
