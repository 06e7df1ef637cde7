import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../../catalogue.js';
import { manualTrainer } from '../../test-support.js';
import { ImageLabelsLearner, imageLabelsStream } from '../index.js';

const topics = new TopicCatalogue();

describe('fresh updates between checkpoints', () => {
  it('a fresh drain holds the images new events named, not the rows only replay moved; the next full drain holds those, without the fresh ones again', async () => {
    const transport = new MemoryTransport({ partitions: 1 });
    const registry = new LocalSchemaRegistry();
    const codec = new Codecs(registry, topics).train(imageLabelsStream);
    const trainer = manualTrainer(
      { transport, registry, topics },
      { checkpointDir: mkdtempSync(join(tmpdir(), 'freshet-fresh-')), threads: 1 },
      { 'image-labels': { dim: 16, replaySteps: 20 } },
    );
    const producer = await transport.producer();
    const feed = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++)
        await producer.send(topics.train('image-labels'), [
          {
            key: Buffer.from(`img-${i}`),
            value: await codec.encode({ imageId: `img-${i}`, labels: [`l${i % 7}`, `l${i % 5}`], eventTime: 1_000 + i, weight: null, source: null }),
          },
        ]);
    };
    await trainer.start();
    await feed(0, 200);
    await waitFor(() => trainer.applied >= 200, { timeoutMs: 30_000, what: 'the first images' });
    const learner = trainer.learnerOf('image-labels', ImageLabelsLearner);
    learner.drainChanged('all');
    // 3 images seen before come back and 2 are new: 5 events, 100 replay steps over the 200 images
    await producer.send(topics.train('image-labels'), [
      { key: Buffer.from('img-7'), value: await codec.encode({ imageId: 'img-7', labels: ['l3'], eventTime: 5_000, weight: null, source: null }) },
      { key: Buffer.from('img-8'), value: await codec.encode({ imageId: 'img-8', labels: ['l4'], eventTime: 5_000, weight: null, source: null }) },
      { key: Buffer.from('img-9'), value: await codec.encode({ imageId: 'img-9', labels: ['l6'], eventTime: 5_000, weight: null, source: null }) },
    ]);
    await feed(200, 202);
    await waitFor(() => trainer.applied >= 205, { timeoutMs: 30_000, what: 'the new events' });
    const named = ['img-7', 'img-8', 'img-9', 'img-200', 'img-201'];
    const fresh = learner.drainChanged('fresh').find((g) => g.kind === 'IMAGE')?.names ?? [];
    expect([...fresh].sort()).toEqual([...named].sort());
    const rest = learner.drainChanged('all').find((g) => g.kind === 'IMAGE')?.names ?? [];
    expect(rest.length).toBeGreaterThan(0);
    for (const name of named) expect(rest).not.toContain(name);
    // a checkpoint whose replayed rows are not due (--replayed-rows-every) sends the fresh ones only;
    // the next full drain sends what it held back with what moved since
    await feed(202, 204);
    await waitFor(() => trainer.applied >= 207, { timeoutMs: 30_000, what: 'two more images' });
    const held = learner.drainChanged('hold-replayed').find((g) => g.kind === 'IMAGE')?.names ?? [];
    expect([...held].sort()).toEqual(['img-202', 'img-203']);
    // nothing trained since: a full drain now holds exactly what was held back (the 40 replay steps' rows), not the fresh ones again
    const owed = learner.drainChanged('all').find((g) => g.kind === 'IMAGE')?.names ?? [];
    expect(owed.length).toBeGreaterThan(10);
    expect(owed).not.toContain('img-202');
    expect(owed).not.toContain('img-203');
    expect(learner.drainChanged('all').find((g) => g.kind === 'IMAGE')?.names ?? []).toEqual([]);
    await trainer.stop({ checkpoint: false });
  });
});
