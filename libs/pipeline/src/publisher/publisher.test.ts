import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, vectorToBytes, type EmbeddingRecord } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { caughtUp, manualPublisher } from '../test-support.js';
import { SnapshotReader, type AssembledSnapshot } from './reader.js';

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
    const publisher = manualPublisher({ transport, registry, topics });
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

describe('delta versions', () => {
  it('after a whole version, each version holds only what changed and what was deleted; every reader assembles the same model, and a reader of whole versions only still reads a consistent one', async () => {
    const transport = new MemoryTransport({ partitions: 1 });
    const registry = new LocalSchemaRegistry(topics.schemaTexts());
    const codecs = new Codecs(registry, topics);
    const producer = await transport.producer();
    const word = async (id: string, vector: number[]): Promise<{ key: Buffer; value: Buffer }> => ({
      key: Buffer.from(`WORD:${id}`),
      value: await codecs
        .modelUpdates()
        .encode({ kind: 'WORD', id, dim: 4, vector: vectorToBytes(Float32Array.from(vector)), version: 1, updatedAt: 1000, bias: 0 }),
    });
    const publisher = manualPublisher({ transport, registry, topics }, { maxDeltas: 3, maxDeltaBytes: 100 });
    const follower = new SnapshotReader(transport, registry, topics, 'follower');
    await Promise.all([publisher.start(), follower.start()]);
    const expected = new Map<string, number[]>();
    const step = async (records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> => {
      await producer.send(topics.modelUpdates, records);
      await waitFor(() => caughtUp(publisher, transport, topics.modelUpdates, 1), { timeoutMs: 10_000, what: 'the publisher' });
      await publisher.publish();
    };
    // version 1 (whole): 50 words
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => word(`w${i}`, [i, 1, 0, 0])));
    for (let i = 0; i < 50; i++) expected.set(`w${i}`, [i, 1, 0, 0]);
    await step(first);
    // versions 2-4 (deltas): a few changes, a new word, a deletion each
    for (let v = 2; v <= 4; v++) {
      await step([await word(`w${v}`, [v, v, v, v]), await word(`new${v}`, [0, 0, v, 1]), { key: Buffer.from(`WORD:w${10 + v}`), value: null }]);
      expected.set(`w${v}`, [v, v, v, v]);
      expected.set(`new${v}`, [0, 0, v, 1]);
      expected.delete(`w${10 + v}`);
    }
    // version 5: whole again (3 deltas at most)
    await step([await word('w40', [9, 9, 9, 9])]);
    expected.set('w40', [9, 9, 9, 9]);
    // version 6: a delta on it
    await step([{ key: Buffer.from('WORD:w41'), value: null }]);
    expected.delete('w41');

    const manifests = await Promise.all(
      transport
        .read(topics.snapshots, 0, 0, 100_000)
        .filter((r) => r.key?.toString() === 'manifest' || r.key?.toString() === 'delta')
        .map(async (r) => ({ key: r.key?.toString(), m: (await codecs.manifests().decode(r.value)).value })),
    );
    expect(manifests.map((x) => x.key)).toEqual(['manifest', 'delta', 'delta', 'delta', 'manifest', 'delta']);
    // a delta's chunks hold its changes only: three rows and one deletion, not the model
    const deltaChunks = await Promise.all(
      transport
        .read(topics.snapshots, 0, 0, 100_000)
        .filter((r) => r.key?.toString() === `v${manifests[1].m.version}`)
        .map(async (r) => (await codecs.chunks().decode(r.value)).value),
    );
    expect(deltaChunks.flatMap((c) => c.ids).sort()).toEqual(['new2', 'w2']);
    expect(deltaChunks.flatMap((c) => c.deleted)).toEqual(['w12']);
    expect(manifests[3].m.chain.map((l) => l.version)).toEqual([manifests[0].m.version, manifests[1].m.version, manifests[2].m.version]);
    expect(manifests[3].m.base).toBe(manifests[0].m.version);

    const modelOf = (snap: AssembledSnapshot | null): Map<string, number[]> => {
      const t = snap?.tables.get('WORD');
      const out = new Map<string, number[]>();
      for (const name of t?.vocab.allNames() ?? []) out.set(name, Array.from(t?.vectors.row(t.vocab.idOf(name)) ?? []));
      return out;
    };
    // a reader that loads the newest version without scanning, one that followed every version, and the Python reader's rule agree
    const loaded = new SnapshotReader(transport, registry, topics, 'loader');
    expect(modelOf(await loaded.loadLatest())).toEqual(expected);
    await waitFor(() => follower.current?.version === manifests[5].m.version, { timeoutMs: 10_000, what: 'the follower at the last version' });
    expect(modelOf(follower.current)).toEqual(expected);
    expect(follower.rejectedVersions).toEqual([]);
    // the pointer a whole-versions-only reader reads names the last whole version
    const pointers = await Promise.all(
      transport
        .read(topics.snapshotManifests, 0, 0, 100)
        .map(async (r) => ({ key: r.key?.toString(), version: (await codecs.pointer().decode(r.value)).value.version })),
    );
    expect(pointers.filter((p) => p.key === 'latest').pop()?.version).toBe(manifests[4].m.version);
    expect(pointers.filter((p) => p.key === 'latest-delta').pop()?.version).toBe(manifests[5].m.version);
    await Promise.all([publisher.stop(), follower.stop()]);
  });
});

describe('a publisher far behind', () => {
  it('cuts no version while more than --catch-up-records updates wait, and versions as often as before once it has caught up', async () => {
    const firstCovered = async (catchUpRecords: number): Promise<{ first: number; versions: number }> => {
      const transport = new MemoryTransport({ partitions: 1 });
      const registry = new LocalSchemaRegistry(topics.schemaTexts());
      const codecs = new Codecs(registry, topics);
      const producer = await transport.producer();
      const records = [];
      for (let i = 0; i < 30_000; i++) {
        const vector = vectorToBytes(Float32Array.from([i, 1, 0, 0]));
        records.push({
          key: Buffer.from(`WORD:w${i}`),
          value: await codecs.modelUpdates().encode({ kind: 'WORD', id: `w${i}`, dim: 4, vector, version: 1, updatedAt: 1000, bias: 0 }),
        });
      }
      await producer.send(topics.modelUpdates, records);
      // a version after every batch, but for the catch-up rule
      const publisher = manualPublisher({ transport, registry, topics }, { publishEveryMs: 0, catchUpRecords, catchUpEveryMs: 1e9 });
      await publisher.start();
      await waitFor(() => caughtUp(publisher, transport, topics.modelUpdates, 1), { timeoutMs: 30_000, what: 'the publisher through the backlog' });
      await publisher.stop();
      const manifests = await Promise.all(
        transport
          .read(topics.snapshots, 0, 0, 1e9)
          .filter((r) => r.key?.toString() === 'manifest' || r.key?.toString() === 'delta')
          .map(async (r) => (await codecs.manifests().decode(r.value)).value),
      );
      return { first: manifests[0].updateOffsets['0'], versions: manifests.length };
    };
    const without = await firstCovered(0);
    const withRule = await firstCovered(10_000);
    // without the rule the first version comes after the first batch; with it, not before 20,000 of the 30,000 were read
    expect(without.first).toBeLessThan(20_000);
    expect(without.versions).toBeGreaterThan(2);
    expect(withRule.first).toBeGreaterThanOrEqual(20_000);
    expect(withRule.versions).toBeLessThan(without.versions);
  });
});
