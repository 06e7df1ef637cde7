import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, loadCorpusSentences, readImageLabelFile } from '@freshet/datasets';
import { TopicCatalogue, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { pythonWithRequirements } from './python.js';
import { deploymentEnv, everythingApplied, health, repoRoot, startService, stopService, testTrainerEnv, type RunningService, feedData } from './services.js';

const brokers = inject('kafkaBrokers');

function json(cmd: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

type Answers = Record<string, Array<{ id: string; score: number }>>;

describe('a downstream reader in Python, written from docs/wire-format.md', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s)));
  });

  it('assembles the latest snapshot without scanning, in under 2 s, and answers as the CLI does', { timeout: 600_000 }, async () => {
    const python = pythonWithRequirements();
    const prefix = `py-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix);
    running.push(await startService('ingest', env));
    const trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-py-'))) });
    running.push(trainer);
    running.push(await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '1000' }));
    const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')).slice(0, 1500);
    const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 3000);
    const topics = new TopicCatalogue(prefix);
    await feedData(
      new KafkaTransport({ brokers: brokers.split(','), clientId: 'py-feeder' }),
      new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)),
      topics,
      { images, windows, rate: 0 },
    );
    const cli = (args: string[]): Record<string, unknown> =>
      json(process.execPath, [join(repoRoot, 'tools', 'cli', 'dist', 'main.js'), 'snapshot', '--brokers', brokers, '--topic-prefix', prefix, ...args]);
    // several snapshots are cut while the stream is applied (rows are published every second):
    // wait until the trainer has applied the whole stream, then for a snapshot that holds every
    // image and every word the trainer knows, the last one the stream makes
    await everythingApplied(trainer, 'the stream');
    const words = (await health<{ words: number }>(trainer)).words;
    await waitFor(
      async () => {
        try {
          const counts = cli([]).counts as Record<string, number>;
          return (counts.IMAGE ?? 0) >= images.length && (counts.WORD ?? 0) >= words;
        } catch {
          return false;
        }
      },
      { timeoutMs: 180_000, what: 'a snapshot with every image and word' },
    );
    // the publisher cuts no new version once the stream is applied: both readers see the same one
    const queries = ['--neighbours', 'whale,sea,captain', '--labels-of', `${images[0].id},${images[1].id}`, '--count', '5'];
    const ours = cli(queries);
    const py = json(python, [join(repoRoot, 'examples', 'python', 'reader.py'), '--brokers', brokers, '--topic-prefix', prefix, ...queries]);
    expect(py.version).toBe(ours.version);
    expect(py.counts).toEqual(ours.counts);
    expect(py.readSeconds as number).toBeLessThan(2);
    // lists with spaces or commas alike; an id the snapshot does not hold is null and named, by both readers
    const unknownQuery = ['--neighbours', 'whale', 'notaword', '--labels-of', 'no-such-image', '--count', '3'];
    for (const answer of [
      cli(unknownQuery),
      json(python, [join(repoRoot, 'examples', 'python', 'reader.py'), '--brokers', brokers, '--topic-prefix', prefix, ...unknownQuery]),
    ]) {
      expect((answer.neighbours as Record<string, unknown>).notaword).toBeNull();
      expect((answer.neighbours as Answers).whale).toHaveLength(3);
      expect((answer.labelsOf as Record<string, unknown>)['no-such-image']).toBeNull();
      expect(answer.unknown).toEqual({ words: ['notaword'], images: ['no-such-image'] });
    }
    for (const key of ['neighbours', 'labelsOf'] as const) {
      const a = ours[key] as Answers;
      const b = py[key] as Answers;
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const q of Object.keys(a)) {
        expect(a[q].length, q).toBe(5);
        expect(
          b[q].map((x) => x.id),
          q,
        ).toEqual(a[q].map((x) => x.id));
        for (let j = 0; j < 5; j++) expect(b[q][j].score, q).toBeCloseTo(a[q][j].score, 4);
      }
    }
  });
});
