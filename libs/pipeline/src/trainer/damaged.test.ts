import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry } from '@freshet/avro';
import { loadCorpusSentences } from '@freshet/datasets';
import { createRegistry, waitFor } from '@freshet/runtime';
import { MemoryTransport, type OutgoingRecord } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { textWindowsStream } from '../streams/index.js';
import { quietLogger, wordsOf } from '../test-support.js';
import type { DamagedCheckpointPolicy } from './damaged.js';
import { CheckpointError } from './errors.js';
import { trainerSettings } from './settings.js';
import { Trainer } from './trainer.js';

const topics = new TopicCatalogue();
const quiet = quietLogger('damaged-test');

describe('a damaged checkpoint on restore', () => {
  it('is never restored: previous resumes from the checkpoint before it, fail stops naming the part, reset starts empty; every event once', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const codec = new Codecs(registry, topics).train(textWindowsStream);
    const sentences = loadCorpusSentences(['moby-dick']).slice(0, 2000);
    const records: OutgoingRecord[] = [];
    for (const [i, tokens] of sentences.entries())
      records.push({ key: Buffer.from(`doc-${i % 5}`), value: await codec.encode({ documentId: `doc-${i % 5}`, sequence: i, tokens, eventTime: 1000 + i }) });
    const tokens = sentences.reduce((n, t) => n + t.length, 0);
    const producer = await transport.producer();
    const dir = mkdtempSync(join(tmpdir(), 'freshet-damaged-'));
    const path = join(dir, 'trainer.ckpt');
    const fatal: Error[] = [];
    const trainer = (policy: DamagedCheckpointPolicy, metrics = createRegistry('t')): Trainer =>
      new Trainer({
        ...trainerSettings.with({ checkpointDir: dir, checkpointEveryMs: 1e15, threads: 1, onDamagedCheckpoint: policy, keepCheckpoints: 2 }),
        // checkpoints only when the test says: 1e15 ms since the last is never
        checkpointEveryMs: 1e15,
        streams: { 'image-labels': { dim: 8, imageCap: 100, labelCap: 10, replayCapacity: 100 }, 'text-windows': { dim: 16, vocabCap: 50_000 } },
        transport,
        registry,
        topics,
        groupId: 'trainer',
        logger: quiet,
        metrics,
        onFatal: (err) => fatal.push(err),
      });
    const consumedAll = (t: Trainer) => (): boolean =>
      [0, 1].every((p) => (t.next.get(`${topics.train('text-windows')}#${p}`) ?? 0) >= transport.endOffset(topics.train('text-windows'), p));
    const counted = (t: Trainer): number => wordsOf(t).vocab.counts.reduce((a, b) => a + b, 0);

    // two checkpoints, then more events the first trainer applies but never checkpoints
    const first = trainer('previous');
    await first.start();
    await producer.send(topics.train('text-windows'), records.slice(0, 1000));
    await waitFor(() => first.applied >= 1000, { timeoutMs: 60_000, what: 'the first thousand windows applied' });
    await first.checkpoint();
    await producer.send(topics.train('text-windows'), records.slice(1000, 1500));
    await waitFor(() => first.applied >= 1500, { timeoutMs: 60_000, what: 'fifteen hundred windows applied' });
    await first.checkpoint();
    await producer.send(topics.train('text-windows'), records.slice(1500));
    await waitFor(consumedAll(first), { timeoutMs: 60_000, what: 'every window applied' });
    await first.stop({ checkpoint: false });
    expect(readdirSync(dir).sort()).toEqual(['trainer.ckpt', 'trainer.ckpt.1', 'trainer.owner']);

    // one flipped bit in the middle of the newest checkpoint
    const damage = (): void => {
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)] ^= 0x10;
      writeFileSync(path, bytes);
    };
    damage();

    // fail: nothing restored, the service is told why
    const failing = trainer('fail');
    await failing.start();
    await waitFor(() => fatal.length > 0, { timeoutMs: 30_000, what: 'the damaged checkpoint refused' });
    expect(fatal[0]).toBeInstanceOf(CheckpointError);
    expect(fatal[0].message).toMatch(/trainer\.ckpt is damaged: blob text-windows\/\w+ does not match its checksum.*--on-damaged-checkpoint previous/);
    await failing.stop({ checkpoint: false });

    // previous: the damaged file set aside, the one before it restored, the rest of the stream redone once
    const metrics = createRegistry('previous');
    const second = trainer('previous', metrics);
    await second.start();
    await waitFor(consumedAll(second), { timeoutMs: 60_000, what: 'the restored trainer to reach the end' });
    expect(second.modelEvents).toBe(sentences.length);
    expect(counted(second)).toBe(tokens);
    expect(readdirSync(dir).filter((f) => f.startsWith('trainer.ckpt.damaged-'))).toHaveLength(1);
    const damagedTotal = (await metrics.getSingleMetric('freshet_checkpoint_damaged_total')?.get())?.values ?? [];
    expect(damagedTotal.find((v) => v.labels.policy === 'previous')?.value).toBe(1);
    await second.checkpoint();
    await second.stop({ checkpoint: false });

    // reset: the damaged file set aside, the model starts empty from the log's start
    damage();
    const third = trainer('reset');
    await third.start();
    await waitFor(consumedAll(third), { timeoutMs: 60_000, what: 'the reset trainer to read the whole log' });
    expect(third.modelEvents).toBe(sentences.length);
    expect(counted(third)).toBe(tokens);
    await third.stop({ checkpoint: false });
  });
});
