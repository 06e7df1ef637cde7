import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroCodec, LocalSchemaRegistry, type ImageLabelEvent, type TextWindowEvent } from '@freshet/avro';
import { Rng, leaveOneOut } from '@freshet/core';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { createRegistry, parseOptions } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { IngestProcessor } from './ingest/processor.js';
import { defaultIngestLimits } from './ingest/normalise.js';
import { PublisherProcessor, type PublisherOptions } from './publisher/publisher.js';
import { SnapshotReader } from './publisher/reader.js';
import { defaultTopics, schemaTexts } from './topics.js';
import { Trainer } from './trainer/trainer.js';
import { trainerOptions, trainerSettings } from './service/services.js';
import { quietLogger, until } from './test-support.js';

const quiet = quietLogger('pipeline-test');


describe('the pipeline in one process (in-memory transport)', () => {
  it('turns raw events into snapshots a reader assembles, and never exposes a half-written version', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const s = schemaTexts();
    const rawImages = new AvroCodec<ImageLabelEvent>(registry, defaultTopics.rawImageLabels, s.imageLabel.text);
    const rawText = new AvroCodec<TextWindowEvent>(registry, defaultTopics.rawTextWindows, s.textWindow.text);
    const split = leaveOneOut(readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')), new Rng(3));
    const sentences = loadCorpusSentences(['moby-dick']).slice(0, 2000);
    const producer = await transport.producer();
    for (const img of split.train) {
      await producer.send(defaultTopics.rawImageLabels, [{ key: Buffer.from(img.id), value: await rawImages.encode({ imageId: img.id, labels: img.labels, eventTime: Date.now(), weight: null, source: 'test' }) }]);
    }
    for (const [i, tokens] of sentences.entries()) {
      await producer.send(defaultTopics.rawTextWindows, [{ key: Buffer.from('moby'), value: await rawText.encode({ documentId: 'moby', sequence: i, tokens, eventTime: Date.now() }) }]);
    }
    const ingest = new IngestProcessor({ transport, registry, topics: defaultTopics, limits: defaultIngestLimits, groupId: 'ingest', logger: quiet, metrics: createRegistry('ingest') });
    const trainer = new Trainer({
      ...trainerSettings(parseOptions(trainerOptions, ['--checkpoint-dir', mkdtempSync(join(tmpdir(), 'freshet-pipeline-')), '--checkpoint-every-ms', '200', '--image-dim', '16', '--word-dim', '16', '--replay-steps', '10', '--replay-capacity', '50000', '--image-cap', '100000', '--label-cap', '1000', '--vocab-cap', '50000'])),
      transport,
      registry,
      topics: defaultTopics,
      groupId: 'trainer',
      logger: quiet,
      metrics: createRegistry('trainer'),
    });
    const publisherOptions: PublisherOptions = { transport, registry, topics: defaultTopics, groupId: 'publisher', logger: quiet, metrics: createRegistry('publisher'), publishEveryMs: 1e9, publishEveryUpdates: 1e9, chunkBytes: 8 * 1024 };
    // this publisher dies after two chunks of its first version
    const broken = new PublisherProcessor({ ...publisherOptions, failAfterChunks: 2 });
    const reader = new SnapshotReader(transport, registry, defaultTopics, 'reader');
    await Promise.all([ingest.start(), trainer.start(), reader.start()]);
    await until(() => trainer.applied >= split.train.length + sentences.length);
    await trainer.checkpoint();
    await broken.start();
    await until(() => transport.endOffset(defaultTopics.modelUpdates, 0) + transport.endOffset(defaultTopics.modelUpdates, 1) > 0);
    await new Promise((r) => setTimeout(r, 200));
    await expect(broken.publish()).rejects.toThrow(/injected failure/);
    const failedVersion = broken.lastVersion;
    await broken.stop().catch(() => undefined);
    // chunks of the failed version are on the topic, without a manifest
    const written = transport.read(defaultTopics.snapshots, 0, 0, 1000).map((r) => r.key?.toString());
    expect(written.length).toBeGreaterThanOrEqual(2);
    expect(written).not.toContain('manifest');
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.current).toBeNull();

    const healthy = new PublisherProcessor({ ...publisherOptions, metrics: createRegistry('publisher-2') });
    await healthy.start();
    await new Promise((r) => setTimeout(r, 300));
    await healthy.publish();
    await until(() => reader.current !== null);
    const snap = reader.current;
    expect(snap?.version).toBe(healthy.lastVersion);
    expect(snap?.version).not.toBe(failedVersion);
    expect(snap?.tables.get('IMAGE')?.vocab.size).toBe(split.train.length);
    expect(snap?.tables.get('WORD')?.vocab.size).toBe(trainer.words.vocab.size);
    // the reader answers queries on the assembled version
    const neighbours = reader.nearest('WORD', 'whale', 'WORD', 5);
    expect(neighbours).toHaveLength(5);
    const labels = reader.nearest('IMAGE', split.train[0].id, 'LABEL', 3);
    expect(labels).toHaveLength(3);

    // a standby publisher takes over when the active one leaves, rebuilding the full state from the
    // latest-vector topic: its next version holds every entity, not only the ones updated since
    const standby = new PublisherProcessor({ ...publisherOptions, metrics: createRegistry('publisher-3') });
    await standby.start();
    await healthy.stop();
    const newcomer = 'takeover-image';
    await producer.send(defaultTopics.rawImageLabels, [{ key: Buffer.from(newcomer), value: await rawImages.encode({ imageId: newcomer, labels: split.train[0].labels, eventTime: Date.now(), weight: null, source: 'test' }) }]);
    await until(() => trainer.images.images.size === split.train.length + 1);
    await trainer.checkpoint();
    const before = snap?.version ?? 0;
    await until(() => transport.read(defaultTopics.modelUpdates, 0, 0, 1e9).length + transport.read(defaultTopics.modelUpdates, 1, 0, 1e9).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    await standby.publish();
    await until(() => (reader.current?.version ?? 0) > before);
    expect(reader.current?.version).toBe(standby.lastVersion);
    expect(reader.current?.tables.get('IMAGE')?.vocab.size).toBe(split.train.length + 1);
    expect(reader.current?.tables.get('WORD')?.vocab.size).toBe(trainer.words.vocab.size);
    await Promise.all([ingest.stop(), trainer.stop(), standby.stop(), reader.stop()]);
  });
});
