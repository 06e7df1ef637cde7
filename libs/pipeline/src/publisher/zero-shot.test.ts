import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, vectorToBytes } from '@freshet/avro';
import { Rng } from '@freshet/core';
import { createRegistry, waitFor, type Registry } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { caughtUp, quietLogger } from '../test-support.js';
import { PublisherProcessor } from './publisher.js';
import { SnapshotReader } from './reader.js';
import { publisherSettings } from './settings.js';
import { readLabelCatalogue } from './zero-shot.js';

const topics = new TopicCatalogue();

async function gauge(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  return (await metric?.get())?.values[0]?.value ?? Number.NaN;
}

/** Words in 8 dimensions; a label's learned vector (4 dimensions) is a fixed linear image of its word's, its bias one coordinate. */
function world() {
  const rng = new Rng(11);
  const a = Array.from({ length: 4 * 8 }, () => rng.nextGaussian());
  const words = Array.from({ length: 20 }, () => Array.from({ length: 8 }, () => rng.nextGaussian()));
  const label = (w: number[]): { vector: number[]; bias: number } => {
    const n = Math.hypot(...w);
    const u = w.map((x) => x / n);
    return { vector: [0, 1, 2, 3].map((d) => u.reduce((s, x, e) => s + a[d * 8 + e] * x, 0)), bias: 0.3 * u[0] };
  };
  return { words, label };
}

describe('zero-shot labels in the publisher', () => {
  it('a catalogue label no image has carried is published, marked zero-shot, in the first version that holds its word; a learned row replaces it', async () => {
    const transport = new MemoryTransport({ partitions: 1 });
    const registry = new LocalSchemaRegistry(topics.schemaTexts());
    const codecs = new Codecs(registry, topics);
    const producer = await transport.producer();
    const metrics = createRegistry('publisher');
    const w = world();
    const names = w.words.map((_, i) => `word${String.fromCharCode(97 + i)}`);
    const update = async (kind: 'WORD' | 'LABEL' | 'IMAGE', id: string, vector: number[], bias = 0) => ({
      key: Buffer.from(`${kind}:${id}`),
      value: await codecs
        .modelUpdates()
        .encode({ kind, id, dim: vector.length, vector: vectorToBytes(Float32Array.from(vector)), version: 1, updatedAt: 1000, bias }),
    });
    const publisher = new PublisherProcessor({
      ...publisherSettings.with({ publishEveryMs: 1e9, publishEveryUpdates: 1e9, zeroShot: 'map', zeroShotLabels: [...names, 'unknown_word'].join(',') }),
      transport,
      registry,
      topics,
      groupId: 'publisher',
      logger: quietLogger('publisher'),
      metrics,
    });
    const reader = new SnapshotReader(transport, registry, topics, 'reader');
    await Promise.all([publisher.start(), reader.start()]);
    const step = async (records: Array<{ key: Buffer; value: Buffer }>): Promise<void> => {
      await producer.send(topics.modelUpdates, records);
      await waitFor(() => caughtUp(publisher, transport, topics.modelUpdates, 1), { timeoutMs: 10_000, what: 'the publisher' });
      await publisher.publish();
      await waitFor(() => reader.current?.version === publisher.lastVersion, { timeoutMs: 10_000, what: 'the reader at the new version' });
    };
    // 15 labels learned from images, the words of the first 18, and one image
    const first = [];
    for (let i = 0; i < 15; i++) first.push(await update('LABEL', names[i], w.label(w.words[i]).vector, w.label(w.words[i]).bias));
    for (let i = 0; i < 18; i++) first.push(await update('WORD', names[i], w.words[i]));
    first.push(await update('IMAGE', 'img1', w.label(w.words[16]).vector));
    await step(first);
    const labels = () => reader.current?.tables.get('LABEL');
    // words 15-17 have vectors and no image carried their labels: zero-shot; 18-19 have no word vector yet
    expect([...(labels()?.zeroShot ?? [])].sort()).toEqual([names[15], names[16], names[17]]);
    expect(labels()?.vocab.size).toBe(18);
    expect(await gauge(metrics, 'freshet_zero_shot_labels')).toBe(3);
    expect(await gauge(metrics, 'freshet_zero_shot_seen_labels_with_words')).toBe(15);
    // the link is linear here: the synthesised vector points where the learned one would
    const t = labels();
    const row = t?.vectors.row(t.vocab.idOf(names[16])) ?? new Float32Array(4);
    const truth = w.label(w.words[16]).vector;
    const cos = truth.reduce((s, x, d) => s + x * row[d], 0) / (Math.hypot(...truth) * Math.hypot(...row));
    expect(cos).toBeGreaterThan(0.95);
    // an image's labels: the zero-shot ones ranked among the learned ones, and marked
    const ranked = reader.nearest('IMAGE', 'img1', 'LABEL', 18);
    expect(
      ranked
        .filter((r) => r.zeroShot === true)
        .map((r) => r.id)
        .sort(),
    ).toEqual([names[15], names[16], names[17]]);
    expect(ranked.find((r) => r.id === names[0])).not.toHaveProperty('zeroShot');

    // text brings word 18: the next version (the one that holds the word) holds its label
    await step([await update('WORD', names[18], w.words[18])]);
    expect(labels()?.zeroShot.has(names[18])).toBe(true);
    // an image event carries label 16 at last: the learned row replaces the zero-shot one
    await step([await update('LABEL', names[16], [1, 1, 1, 1], 0.5)]);
    expect(labels()?.zeroShot.has(names[16])).toBe(false);
    expect(Array.from(labels()?.vectors.row(labels()?.vocab.idOf(names[16]) ?? -1) ?? [])).toEqual([1, 1, 1, 1]);
    expect(await gauge(metrics, 'freshet_zero_shot_labels')).toBe(3);
    await Promise.all([publisher.stop(), reader.stop()]);
  });

  it('refuses to start without a catalogue, and reads one from a list or a file', () => {
    expect(
      () =>
        new PublisherProcessor({
          ...publisherSettings.with({ zeroShot: 'map' }),
          transport: new MemoryTransport(),
          registry: new LocalSchemaRegistry(topics.schemaTexts()),
          topics,
          groupId: 'p',
          logger: quietLogger('p'),
          metrics: createRegistry('p'),
        }),
    ).toThrow(/needs a label catalogue/);
    expect(readLabelCatalogue('sky, sea,sky')).toEqual(['sky', 'sea']);
    expect(readLabelCatalogue('sunset')).toEqual(['sunset']);
  });
});
