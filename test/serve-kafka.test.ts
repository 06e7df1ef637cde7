import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { dataFile, loadCorpusSentences, readImageLabelFile } from '@freshet/datasets';
import { TopicCatalogue, toWindows } from '@freshet/pipeline';
import { waitFor } from '@freshet/runtime';
import { KafkaTransport } from '@freshet/transport';
import { pythonWithRequirements } from './python.js';
import { runProcess } from './run-process.js';
import { deploymentEnv, everythingApplied, feedData, health, repoRoot, startService, stopService, testTrainerEnv, type RunningService } from './services.js';

const brokers = inject('kafkaBrokers');

type Answers = Record<string, Array<{ id: string; score: number }> | null>;

/**
 * freshet serve as its own process on a real broker, behind the three services and a publisher
 * that also writes to LanceDB: its answers equal the exact answers of `freshet snapshot` for the
 * README's queries, a label learned from a new image event becomes queryable in serve and present
 * in LanceDB, a deleted entity disappears from both, and an index in Python kept fresh from the
 * same topic answers alike.
 */
describe('freshet serve and a vector database kept fresh from the topics, on a real broker', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });

  it('answers as freshet snapshot does, follows new labels and deletions, and LanceDB and a Python index keep up', { timeout: 600_000 }, async () => {
    const prefix = `serve-${randomUUID().slice(0, 8)}.`;
    const env = deploymentEnv(brokers, prefix);
    const lancedbUri = join(mkdtempSync(join(tmpdir(), 'freshet-serve-lancedb-')), 'db');
    running.push(await startService('ingest', env));
    const trainer = await startService('trainer', { ...env, ...testTrainerEnv(mkdtempSync(join(tmpdir(), 'freshet-serve-'))) });
    running.push(trainer);
    running.push(await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '500', FRESHET_SINKS: 'kafka,lancedb', FRESHET_LANCEDB_URI: lancedbUri }));
    const serve = await startService('serve', env);
    running.push(serve);
    const query = async (path: string, q: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`http://127.0.0.1:${serve.port}${path}?${new URLSearchParams(q).toString()}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')).slice(0, 800);
    const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 2000);
    const topics = new TopicCatalogue(prefix);
    const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'serve-feeder' });
    await feedData(transport, registry, topics, { images, windows, rate: 0 });
    await everythingApplied(trainer, 'the stream');

    // the same model in both: the snapshot holding every image and word the trainer knows, and serve at its version
    const cli = async (args: string[]): Promise<Record<string, unknown>> => {
      const r = await runProcess(
        process.execPath,
        [join(repoRoot, 'tools', 'cli', 'dist', 'main.js'), 'snapshot', '--brokers', brokers, '--topic-prefix', prefix, ...args],
        120_000,
      );
      if (r.status !== 0) throw new Error(`freshet snapshot failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    };
    const words = (await health<{ words: number }>(trainer)).words;
    let version = 0;
    await waitFor(
      async () => {
        try {
          const snap = await cli([]);
          const counts = snap.counts as Record<string, number>;
          version = snap.version as number;
          return (counts.IMAGE ?? 0) >= images.length && (counts.WORD ?? 0) >= words;
        } catch {
          return false;
        }
      },
      { timeoutMs: 180_000, what: 'a snapshot with every image and word' },
    );
    // serve has applied the latest-vector topic to its end: every record the versions so far wrote
    const admin = await transport.admin();
    const latestEnds = await admin.endOffsets(topics.embeddingsLatest);
    await admin.close();
    await waitFor(
      async () => {
        const consumed = (await health<{ consumed: Record<string, number> }>(serve)).consumed;
        return latestEnds.every((e) => (consumed[`${e.topic}#${e.partition}`] ?? 0) >= e.offset);
      },
      { timeoutMs: 60_000, what: `serve at version ${version}` },
    );
    expect((await fetch(`http://127.0.0.1:${serve.port}/readyz`)).status).toBe(200);

    // the README's query: serve answers exactly what freshet snapshot does
    const [img1, img2] = [images[0].id, images[1].id];
    const exact = await cli(['--neighbours', 'whale', 'ship', '--labels-of', img1, img2, '--count', '8']);
    for (const w of ['whale', 'ship']) {
      const a = await query('/neighbours', { kind: 'WORD', id: w, k: '8' });
      expect(a.status).toBe(200);
      expect(
        (a.body.results as Array<{ id: string }>).map((r) => r.id),
        w,
      ).toEqual((exact.neighbours as Answers)[w]?.map((r) => r.id));
    }
    for (const i of [img1, img2]) {
      const a = await query('/labels', { image: i, k: '8' });
      const want = (exact.labelsOf as Answers)[i] ?? [];
      expect(
        (a.body.results as Array<{ id: string }>).map((r) => r.id),
        i,
      ).toEqual(want.map((r) => r.id));
      for (const [j, r] of (a.body.results as Array<{ score: number }>).entries()) expect(r.score).toBeCloseTo(want[j].score, 4);
    }

    // a new image with a label no event has shown before: queryable in serve and present in LanceDB
    const fresh = { id: `new-${randomUUID().slice(0, 6)}`, labels: ['zebracorn', 'sky'] };
    await feedData(transport, registry, topics, { images: [fresh], rate: 0 });
    await waitFor(async () => (await query('/vector', { kind: 'LABEL', id: 'zebracorn' })).status === 200, {
      timeoutMs: 60_000,
      what: 'the new label in serve',
    });
    await waitFor(async () => (await query('/labels', { image: fresh.id, k: '50' })).status === 200, { timeoutMs: 60_000, what: 'the new image in serve' });
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(lancedbUri);
    const idsIn = async (table: string): Promise<string[]> =>
      ((await (await db.openTable(table)).query().select(['id']).toArray()) as Array<{ id: string }>).map((r) => r.id);
    await waitFor(async () => (await idsIn('label')).includes('zebracorn'), { timeoutMs: 60_000, what: 'the new label in LanceDB' });

    // a deleted entity (a tombstone on the model-updates topic, as an evicted row is) disappears from both
    const producer = await transport.producer();
    await producer.send(topics.modelUpdates, [{ key: Buffer.from(`IMAGE:${fresh.id}`), value: null }]);
    await waitFor(async () => (await query('/labels', { image: fresh.id, k: '5' })).status === 404, {
      timeoutMs: 60_000,
      what: 'the deleted image gone from serve',
    });
    await waitFor(async () => !(await idsIn('image')).includes(fresh.id), { timeoutMs: 60_000, what: 'the deleted image gone from LanceDB' });
    await producer.close();

    // an index in Python, kept fresh from the same topic, answers alike (examples/python/index.py)
    const py = await runProcess(
      pythonWithRequirements(),
      [
        join(repoRoot, 'examples', 'python', 'index.py'),
        '--brokers',
        brokers,
        '--topic-prefix',
        prefix,
        '--neighbours',
        'whale',
        'ship',
        '--labels-of',
        img1,
        fresh.id,
        '--count',
        '8',
      ],
      180_000,
    );
    expect(py.status, py.stderr).toBe(0);
    const pyOut = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as { neighbours: Answers; labelsOf: Answers; deleted: number };
    for (const w of ['whale', 'ship']) {
      const a = await query('/neighbours', { kind: 'WORD', id: w, k: '8' });
      expect(
        pyOut.neighbours[w]?.map((r) => r.id),
        w,
      ).toEqual((a.body.results as Array<{ id: string }>).map((r) => r.id));
    }
    expect(pyOut.labelsOf[img1]?.map((r) => r.id)).toEqual(
      ((await query('/labels', { image: img1, k: '8' })).body.results as Array<{ id: string }>).map((r) => r.id),
    );
    expect(pyOut.labelsOf[fresh.id]).toBeNull();
    expect(pyOut.deleted).toBeGreaterThanOrEqual(1);

    // bad queries: 400 with a reason
    const badQuery = await query('/neighbours', { kind: 'WORD', id: 'whale', k: 'many' });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error).toMatch(/k must be a whole number/);
  });
});
