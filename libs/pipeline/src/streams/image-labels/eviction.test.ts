import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../../catalogue.js';
import { SnapshotReader } from '../../publisher/reader.js';
import { caughtUp, imagesOf, manualPublisher, manualTrainer } from '../../test-support.js';
import type { Trainer } from '../../trainer/trainer.js';
import { imageLabelsStream } from '../index.js';

const topics = new TopicCatalogue();

describe('images evicted at the cap', () => {
  it('every new image gets a vector; the least recently seen give their rows up, are deleted downstream, and one that returns starts fresh; a checkpoint keeps the free rows', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const codec = new Codecs(registry, topics).train(imageLabelsStream);
    const dir = mkdtempSync(join(tmpdir(), 'freshet-evict-'));
    const make = (): Trainer =>
      manualTrainer(
        { transport, registry, topics },
        { checkpointDir: dir },
        { 'image-labels': { dim: 16, imageCap: 100, labelCap: 50, replayCapacity: 10_000, evictBatch: 0.1 }, 'text-windows': { dim: 16 } },
      );
    const producer = await transport.producer();
    // 300 distinct images, each seen once, in event-time order: far past the cap of 100
    const feed = async (from: number, to: number, time = (i: number): number => 1_000_000 + i): Promise<void> => {
      for (let i = from; i < to; i++)
        await producer.send(topics.train('image-labels'), [
          {
            key: Buffer.from(`img-${i}`),
            value: await codec.encode({ imageId: `img-${i}`, labels: [`l${i % 7}`, `l${i % 11}`], eventTime: time(i), weight: null, source: null }),
          },
        ]);
    };
    let trainer = make();
    await trainer.start();
    await feed(0, 300);
    await waitFor(() => trainer.applied >= 300, { timeoutMs: 30_000, what: 'every event' });
    const model = imagesOf(trainer);
    expect(model.images.refusedCount).toBe(0);
    expect(model.images.live).toBeLessThanOrEqual(100);
    expect(trainer.details().imagesEvicted).toBeGreaterThanOrEqual(200);
    // the newest images are held, the oldest are gone
    expect(model.images.idOf('img-299')).toBeGreaterThanOrEqual(0);
    expect(model.images.idOf('img-0')).toBe(-1);
    // a checkpoint publishes the rows and the deletions; the publisher's snapshot holds only live images
    await trainer.checkpoint();
    const publisher = manualPublisher({ transport, registry, topics });
    const reader = new SnapshotReader(transport, registry, topics, 'reader');
    await Promise.all([publisher.start(), reader.start()]);
    await waitFor(() => caughtUp(publisher, transport, topics.modelUpdates, 2), { timeoutMs: 30_000, what: 'the publisher' });
    await publisher.publish();
    await waitFor(() => reader.current !== null, { timeoutMs: 30_000, what: 'a snapshot' });
    const published = new Set(reader.current?.tables.get('IMAGE')?.vocab.allNames());
    expect(published.size).toBe(model.images.live);
    for (const name of published) expect(model.images.idOf(name)).toBeGreaterThanOrEqual(0);
    const tombstones = transport
      .read(topics.modelUpdates, 0, 0, 100_000)
      .concat(transport.read(topics.modelUpdates, 1, 0, 100_000))
      .filter((r) => r.value === null);
    expect(tombstones.length).toBeGreaterThanOrEqual(200 - 100);

    // a restart restores the same rows, free ones included
    const before = model.images.allNames().slice();
    await trainer.stop();
    trainer = make();
    await trainer.start();
    await waitFor(() => trainer.role === 'active', { timeoutMs: 30_000, what: 'the restored trainer' });
    expect(imagesOf(trainer).images.allNames()).toEqual(before);
    // an evicted image that comes back takes a free row and starts fresh
    await feed(0, 1, () => 2_000_000);
    await waitFor(() => imagesOf(trainer).images.idOf('img-0') >= 0, { timeoutMs: 30_000, what: 'img-0 back' });
    expect(imagesOf(trainer).images.live).toBeLessThanOrEqual(100);
    await Promise.all([trainer.stop(), publisher.stop(), reader.stop()]);
  });
});
