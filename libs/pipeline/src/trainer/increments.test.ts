import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { imageLabelsStream, textWindowsStream } from '../streams/index.js';
import { manualTrainer } from '../test-support.js';
import { readCheckpointHeader } from './checkpoint.js';
import { RowsSince, patchLists, patchNames, patchRows } from './increments.js';
import type { LearnerState } from './learner.js';
import type { DamagedCheckpointPolicy } from './policies.js';
import type { Trainer } from './trainer.js';

describe('increment parts', () => {
  it('rows marked since the last take, ascending, below the size; lists and rows patched into their base', () => {
    const since = new RowsSince();
    since.markAll([5, 2, 5, 3000]);
    since.mark(0);
    expect([...since.take(4000)]).toEqual([0, 2, 5, 3000]);
    expect([...since.take(4000)]).toEqual([]);
    since.markAll([1, 9]);
    expect([...since.take(5)]).toEqual([1]);

    const base = Float32Array.from([1, 1, 2, 2, 3, 3]);
    expect([...patchRows(base, 2, 4, Int32Array.from([1, 3]), Float32Array.from([7, 7, 9, 9]))]).toEqual([1, 1, 7, 7, 3, 3, 9, 9]);
    expect(() => patchRows(base, 2, 2, Int32Array.from([2]), Float32Array.from([0, 0]))).toThrow(/patches row 2 of 2/);

    const lists = patchLists({ flat: Int32Array.from([10, 11, 20]), start: Int32Array.from([0, 2, 3]) }, 3, Int32Array.from([0, 2]), {
      flat: Int32Array.from([12, 30, 31]),
      start: Int32Array.from([0, 1, 3]),
    });
    expect([...lists.start]).toEqual([0, 1, 2, 4]);
    expect([...lists.flat]).toEqual([12, 20, 30, 31]);
    expect(patchNames(['a', 'b'], 3, Int32Array.from([0, 2]), ['', 'c'])).toEqual(['', 'b', 'c']);
  });
});

const topics = new TopicCatalogue();

describe('incremental checkpoints', () => {
  it('a chain of increments restores exactly the model a full checkpoint holds; a damaged link falls back to the newest intact chain', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const codecs = new Codecs(registry, topics);
    const images = codecs.train(imageLabelsStream);
    const windows = codecs.train(textWindowsStream);
    const dir = mkdtempSync(join(tmpdir(), 'freshet-increments-'));
    const make = (policy: DamagedCheckpointPolicy): Trainer =>
      manualTrainer(
        { transport, registry, topics },
        { checkpointDir: dir, checkpointFullEvery: 3, keepCheckpoints: 1, onDamagedCheckpoint: policy, threads: 1 },
        // a cap below the images fed: evictions free rows that later increments must carry
        { 'image-labels': { dim: 16, imageCap: 120, labelCap: 50, replayCapacity: 10_000, evictBatch: 0.1 }, 'text-windows': { dim: 16 } },
      );
    const producer = await transport.producer();
    let fed = 0;
    const feed = async (round: number, from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await producer.send(topics.train('image-labels'), [
          {
            key: Buffer.from(`img-${i}`),
            value: await images.encode({
              imageId: `img-${i}`,
              labels: [`l${i % 7}`, `l${(i * 3) % 13}`, `new${round}`],
              eventTime: 1_000_000 + i,
              weight: null,
              source: null,
            }),
          },
        ]);
        await producer.send(topics.train('text-windows'), [
          {
            key: Buffer.from(`doc-${i}`),
            value: await windows.encode({
              documentId: `doc-${i}`,
              sequence: 0,
              tokens: ['the', `w${i}`, 'river', `r${round}x${i % 5}`, 'flows'],
              eventTime: 1_000_000 + i,
            }),
          },
        ]);
        fed += 2;
      }
    };
    const snapshot = (t: Trainer): LearnerState[] => t.learners.map((l) => l.exportState());
    let trainer = make('previous');
    await trainer.start();
    // a full checkpoint of 600 images (cap 120) and 600 windows, then three increments of 10 new
    // images and windows each: images evicted and rows taken again, new labels and words in each
    const states: LearnerState[][] = [];
    for (let round = 0; round < 4; round++) {
      await feed(round, round === 0 ? 0 : 590 + 10 * round, 600 + 10 * round);
      await waitFor(() => trainer.applied >= fed, { timeoutMs: 30_000, what: `round ${round}` });
      await trainer.checkpoint();
      states.push(snapshot(trainer));
    }
    const path = join(dir, 'trainer.ckpt');
    const formats = [path, `${path}.1`, `${path}.2`, `${path}.3`].map((f) => readCheckpointHeader(f)?.format);
    expect(formats).toEqual([3, 3, 3, 2]);
    expect(readCheckpointHeader(path)?.increment).toMatchObject({ chain: 3 });
    // an increment holds what changed: smaller than the full checkpoint
    expect(readFileSync(path).length).toBeLessThan(readFileSync(`${path}.3`).length);
    expect(trainer.details().imagesEvicted).toBeGreaterThan(0);
    await trainer.stop();

    trainer = make('previous');
    await trainer.start();
    await waitFor(() => trainer.role === 'active', { timeoutMs: 30_000, what: 'restored from the chain' });
    expect(snapshot(trainer)).toEqual(states[3]);
    await trainer.stop({ checkpoint: false });

    // a damaged link: the chain through it is unusable; the newest intact one (the full checkpoint) is restored
    const middle = `${path}.2`;
    const bytes = readFileSync(middle);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(middle, bytes);
    trainer = make('previous');
    await trainer.start();
    await waitFor(() => trainer.role === 'active', { timeoutMs: 30_000, what: 'restored from the full checkpoint' });
    expect(snapshot(trainer)).toEqual(states[0]);
    expect(readdirSync(dir).some((f) => f.startsWith('trainer.ckpt.2.damaged-'))).toBe(true);
    expect(readCheckpointHeader(path)?.format).toBe(2);
    expect(existsSync(`${path}.1`)).toBe(false);
    await trainer.stop({ checkpoint: false });
  });
});
