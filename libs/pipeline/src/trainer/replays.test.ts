import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry } from '@freshet/avro';
import { loadCorpusSentences } from '@freshet/datasets';
import { createRegistry, waitFor } from '@freshet/runtime';
import { MemoryTransport, type ConsumedRecord } from '@freshet/transport';
import { IngestProcessor } from '../ingest/processor.js';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { ORIGIN_HEADER, originHeader } from '../origin.js';
import { textWindowsStream } from '../streams/index.js';
import { quietLogger, wordsOf } from '../test-support.js';
import { ReplayFilter } from './replays.js';
import { trainerSettings } from './settings.js';
import { Trainer } from './trainer.js';

const defaultTopics = new TopicCatalogue();

const quiet = quietLogger('replays-test');

function record(partition: number, origin: { partition: number; offset: number; timestamp: number } | null, offset = 0): ConsumedRecord {
  return { topic: 't', partition, offset, key: null, value: null, headers: origin === null ? {} : { [ORIGIN_HEADER]: originHeader(origin) }, timestamp: 0 };
}

describe('replay filter', () => {
  it('passes new origins, drops replays, applies a recreated raw log, and keeps its marks through a checkpoint', () => {
    const f = new ReplayFilter();
    const first = [0, 1, 2, 3].map((o) => record(0, { partition: 0, offset: o, timestamp: 100 + o }));
    expect(f.admit(first)).toHaveLength(4);
    // ingest died before committing offsets 2-3: it forwards 2, 3 again, then 4 is new
    const again = [2, 3, 4].map((o) => record(0, { partition: 0, offset: o, timestamp: 100 + o }));
    expect(f.admit(again).map((r) => r.headers[ORIGIN_HEADER])).toEqual(['0:4:104']);
    expect(f.skipped).toBe(2);
    // another raw partition and another training partition have marks of their own
    expect(f.admit([record(0, { partition: 1, offset: 0, timestamp: 1 }), record(1, { partition: 0, offset: 0, timestamp: 100 })])).toHaveLength(2);
    // a record without an origin (written straight to the training topic) always passes
    expect(f.admit([record(0, null), record(0, null)])).toHaveLength(2);
    // the raw topic was deleted and recreated: offsets restart, timestamps do not go back
    expect(f.admit([record(0, { partition: 0, offset: 0, timestamp: 5000 })])).toHaveLength(1);
    expect(f.restarts).toBe(1);
    const restored = new ReplayFilter();
    restored.restore(f.marks());
    expect(restored.marks()).toEqual(f.marks());
    expect(restored.admit([record(0, { partition: 0, offset: 0, timestamp: 5000 }), record(0, { partition: 0, offset: 1, timestamp: 5001 })])).toHaveLength(1);
  });
});

describe('replay filter with raw log epochs', () => {
  const at = (offset: number, epoch: string, timestamp = 100): ConsumedRecord => {
    const r = record(0, { partition: 0, offset, timestamp });
    return { ...r, headers: { [ORIGIN_HEADER]: originHeader({ partition: 0, offset, timestamp, epoch }) } };
  };

  it('a recreated raw log is a new epoch: its events are applied and reported even with older timestamps; replays within an epoch are dropped', () => {
    const changes: unknown[] = [];
    const f = new ReplayFilter((c) => changes.push(c));
    expect(f.admit([0, 1, 2, 3, 4].map((o) => at(o, 'e1', 5000 + o)))).toHaveLength(5);
    expect(f.admit([at(3, 'e1', 5003), at(4, 'e1', 5004)])).toHaveLength(0);
    expect(f.skipped).toBe(2);
    // the topic was deleted and recreated: offsets start over, and the producer's timestamps are older
    const fresh = f.admit([0, 1, 2].map((o) => at(o, 'e2', 10 + o)));
    expect(fresh).toHaveLength(3);
    expect(changes).toEqual([{ topic: 't', partition: 0, origin: 0, previous: 'e1', epoch: 'e2', was: 4, now: 0 }]);
    expect(f.skipped).toBe(2);
    // a replay in the new epoch is still a replay, and the marks keep the epoch through a checkpoint
    expect(f.admit([at(2, 'e2', 12)])).toHaveLength(0);
    const restored = new ReplayFilter();
    restored.restore(f.marks());
    expect(restored.marks()).toEqual(f.marks());
    expect(restored.admit([at(2, 'e2', 12), at(3, 'e2', 13)])).toHaveLength(1);
  });

  it('marks from before epochs take the first epoch they meet as their own', () => {
    const f = new ReplayFilter();
    expect(f.admit([record(0, { partition: 0, offset: 5, timestamp: 100 })])).toHaveLength(1);
    // ingest upgraded: it forwards 5 again (it had not committed it) with an epoch, then 6
    expect(f.admit([at(5, 'e1', 100), at(6, 'e1', 101)])).toHaveLength(1);
    expect(f.marks()).toMatchObject([{ offset: 6, epoch: 'e1' }]);
  });
});

describe('ingest replays on the in-memory transport', () => {
  it('an event ingest forwards twice (it died before its commit) is applied once, across a trainer restart', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const rawText = new Codecs(registry, defaultTopics).raw(textWindowsStream);
    const sentences = loadCorpusSentences(['moby-dick']).slice(0, 1500);
    const producer = await transport.producer();
    const raw = [];
    for (const [i, tokens] of sentences.entries()) {
      raw.push({ key: Buffer.from(`doc-${i % 7}`), value: await rawText.encode({ documentId: `doc-${i % 7}`, sequence: i, tokens, eventTime: Date.now() }) });
    }
    await producer.send(defaultTopics.raw('text-windows'), raw);
    const ingestOnce = async (): Promise<void> => {
      const ingest = new IngestProcessor({ transport, registry, topics: defaultTopics, groupId: 'ingest', logger: quiet, metrics: createRegistry('ingest') });
      await ingest.start();
      await waitFor(() => ingest.handled >= sentences.length, { timeoutMs: 60_000, what: 'ingest.handled >= sentences.length' });
      await ingest.stop();
    };
    await ingestOnce();

    const dir = mkdtempSync(join(tmpdir(), 'freshet-replays-'));
    const settings = () => ({
      ...trainerSettings.with({ checkpointDir: dir, checkpointEveryMs: 1_000_000, threads: 1 }),
      streams: { 'image-labels': { dim: 16 }, 'text-windows': { dim: 16, vocabCap: 100_000 } },
    });
    const wiring = { transport, registry, topics: defaultTopics, groupId: 'trainer', logger: quiet };
    const first = new Trainer({ ...settings(), ...wiring, metrics: createRegistry('t1') });
    await first.start();
    await waitFor(() => first.modelEvents >= sentences.length, { timeoutMs: 60_000, what: 'first.modelEvents >= sentences.length' });
    await first.stop();

    // ingest "crashed" before committing: its group forgot every offset, so it forwards everything again
    const admin = await transport.admin();
    await admin.deleteGroup('ingest');
    await admin.close();
    await ingestOnce();
    const forwarded = (await transport.admin().then((a) => a.endOffsets(defaultTopics.train('text-windows')))).reduce((n, o) => n + o.offset, 0);
    expect(forwarded).toBe(2 * sentences.length);

    const second = new Trainer({ ...settings(), ...wiring, metrics: createRegistry('t2') });
    await second.start();
    await waitFor(() => second.applied >= sentences.length, { timeoutMs: 60_000, what: 'second.applied >= sentences.length' });
    await second.stop();
    expect(second.modelEvents).toBe(sentences.length);
    // every token counted once: the restored model's counts are the first trainer's
    const counted = (t: Trainer): number => wordsOf(t).vocab.counts.reduce((a, b) => a + b, 0);
    expect(counted(second)).toBe(counted(first));
    expect((second.details() as { replaysSkipped: number }).replaysSkipped).toBe(sentences.length);
  });
});
