import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, vectorToBytes, type EmbeddingRecord } from '@freshet/avro';
import { createRegistry, waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { caughtUp, quietLogger } from '../test-support.js';
import { PublisherProcessor } from './publisher.js';
import { SnapshotReader } from './reader.js';
import { publisherSettings } from './settings.js';

const topics = new TopicCatalogue();

describe('a model update the publisher cannot publish', () => {
  it('is dead-lettered with its reason and the partition moves on: the snapshot holds every other row and says up to which offsets', async () => {
    const transport = new MemoryTransport({ partitions: 1 });
    const registry = new LocalSchemaRegistry(topics.schemaTexts());
    const codecs = new Codecs(registry, topics);
    const record = (id: string, vector: number[]): EmbeddingRecord => ({
      kind: 'WORD',
      id,
      dim: vector.length,
      vector: vectorToBytes(Float32Array.from(vector)),
      version: 1,
      updatedAt: 1000,
      bias: 0,
    });
    const good = await codecs.modelUpdates().encode(record('whale', [1, 2, 3, 4]));
    const unknownSchema = Buffer.from(good);
    unknownSchema.writeInt32BE(12345, 1);
    const nonFinite = await codecs.modelUpdates().encode(record('ship', [1, Number.NaN, 3, 4]));
    const after = await codecs.modelUpdates().encode(record('sea', [4, 3, 2, 1]));
    const producer = await transport.producer();
    await producer.send(
      topics.modelUpdates,
      [good, unknownSchema, nonFinite, after].map((value, i) => ({ key: Buffer.from(`k${i}`), value })),
    );
    const publisher = new PublisherProcessor({
      ...publisherSettings.with({ publishEveryMs: 1e9, publishEveryUpdates: 1e9 }),
      transport,
      registry,
      topics,
      groupId: 'publisher',
      logger: quietLogger('publisher'),
      metrics: createRegistry('publisher'),
    });
    const reader = new SnapshotReader(transport, registry, topics, 'reader');
    await Promise.all([publisher.start(), reader.start()]);
    await waitFor(() => caughtUp(publisher, transport, topics.modelUpdates, 1), { timeoutMs: 30_000, what: 'the publisher past the poison records' });
    await publisher.publish();
    await waitFor(() => reader.current !== null, { timeoutMs: 30_000, what: 'a snapshot' });
    expect(reader.current?.tables.get('WORD')?.vocab.allNames().slice().sort()).toEqual(['sea', 'whale']);
    const letters = await Promise.all(transport.read(topics.deadLetters, 0, 0, 100).map(async (r) => (await codecs.deadLetters().decode(r.value)).value));
    expect(letters.map((l) => [l.service, l.errorCode, l.offset])).toEqual([
      ['publisher', 'UNKNOWN_SCHEMA_ID', 1],
      ['publisher', 'NON_FINITE_VECTOR', 2],
    ]);
    const manifest = (await codecs.pointer().decode(transport.read(topics.snapshotManifests, 0, 0, 10)[0].value)).value;
    expect(manifest.updateOffsets).toEqual({ '0': 4 });
    await Promise.all([publisher.stop(), reader.stop()]);
  });
});
