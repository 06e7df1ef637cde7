import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry } from '@freshet/avro';
import { Rng, leaveOneOut } from '@freshet/core';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { createRegistry, waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from './catalogue.js';
import { IngestProcessor } from './ingest/processor.js';
import { PublisherProcessor, type PublisherOptions } from './publisher/publisher.js';
import { SnapshotReader } from './publisher/reader.js';
import { publisherSettings } from './publisher/settings.js';
import { imageLabelsStream, textWindowsStream } from './streams/index.js';
import { caughtUp, failingAfter, imagesOf, quietLogger, wordsOf } from './test-support.js';
import { trainerSettings } from './trainer/settings.js';
import { Trainer } from './trainer/trainer.js';

const defaultTopics = new TopicCatalogue();

const quiet = quietLogger('pipeline-test');

describe('the pipeline in one process (in-memory transport)', () => {
  it('turns raw events into snapshots a reader assembles, and never exposes a half-written version', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry();
    const codecs = new Codecs(registry, defaultTopics);
    const rawImages = codecs.raw(imageLabelsStream);
    const rawText = codecs.raw(textWindowsStream);
    const split = leaveOneOut(readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')), new Rng(3));
    const sentences = loadCorpusSentences(['moby-dick']).slice(0, 2000);
    const producer = await transport.producer();
    for (const img of split.train) {
      await producer.send(defaultTopics.raw('image-labels'), [
        {
          key: Buffer.from(img.id),
          value: await rawImages.encode({ imageId: img.id, labels: img.labels, eventTime: Date.now(), weight: null, source: 'test' }),
        },
      ]);
    }
    for (const [i, tokens] of sentences.entries()) {
      await producer.send(defaultTopics.raw('text-windows'), [
        { key: Buffer.from('moby'), value: await rawText.encode({ documentId: 'moby', sequence: i, tokens, eventTime: Date.now() }) },
      ]);
    }
    const ingest = new IngestProcessor({ transport, registry, topics: defaultTopics, groupId: 'ingest', logger: quiet, metrics: createRegistry('ingest') });
    const trainer = new Trainer({
      ...trainerSettings.with({ checkpointDir: mkdtempSync(join(tmpdir(), 'freshet-pipeline-')), checkpointEveryMs: 200 }),
      streams: {
        'image-labels': { dim: 16, replaySteps: 10, replayCapacity: 50_000, imageCap: 100_000, labelCap: 1000 },
        'text-windows': { dim: 16, vocabCap: 50_000 },
      },
      transport,
      registry,
      topics: defaultTopics,
      groupId: 'trainer',
      logger: quiet,
      metrics: createRegistry('trainer'),
    });
    const publisherOptions: PublisherOptions = {
      ...publisherSettings.with({ publishEveryMs: 1e9, publishEveryUpdates: 1e9, chunkBytes: 8 * 1024 }),
      transport,
      registry,
      topics: defaultTopics,
      groupId: 'publisher',
      logger: quiet,
      metrics: createRegistry('publisher'),
    };
    // this publisher's transport fails the third chunk it sends: it dies after two chunks of its first version
    const broken = new PublisherProcessor({ ...publisherOptions, transport: failingAfter(transport, defaultTopics.snapshots, 2) });
    const reader = new SnapshotReader(transport, registry, defaultTopics, 'reader');
    await Promise.all([ingest.start(), trainer.start(), reader.start()]);
    await waitFor(() => trainer.applied >= split.train.length + sentences.length, {
      timeoutMs: 60_000,
      what: 'trainer.applied >= split.train.length + sentences.length',
    });
    await trainer.checkpoint();
    await broken.start();
    await waitFor(() => transport.endOffset(defaultTopics.modelUpdates, 0) + transport.endOffset(defaultTopics.modelUpdates, 1) > 0, {
      timeoutMs: 60_000,
      what: 'transport.endOffset(defaultTopics.modelUpdates, 0) + transport.endOffset(defaultTopics.modelUpdates, 1) > 0',
    });
    await waitFor(() => caughtUp(broken, transport, defaultTopics.modelUpdates, 2), {
      timeoutMs: 60_000,
      what: 'caughtUp(broken, transport, defaultTopics.modelUpdates, 2)',
    });
    await expect(broken.publish()).rejects.toThrow(/injected failure/);
    const failedVersion = broken.lastVersion;
    await broken.stop().catch(() => undefined);
    // chunks of the failed version are on the topic, without a manifest
    const written = transport.read(defaultTopics.snapshots, 0, 0, 1000).map((r) => r.key?.toString());
    expect(written.length).toBeGreaterThanOrEqual(2);
    expect(written).not.toContain('manifest');
    // the reader has read every chunk there is, and still holds no version
    await waitFor(() => (reader.readTo.get(0) ?? 0) >= transport.endOffset(defaultTopics.snapshots, 0), {
      timeoutMs: 60_000,
      what: '(reader.readTo.get(0) ?? 0) >= transport.endOffset(defaultTopics.snapshots, 0)',
    });
    expect(reader.current).toBeNull();

    const healthy = new PublisherProcessor({ ...publisherOptions, metrics: createRegistry('publisher-2') });
    await healthy.start();
    await waitFor(() => caughtUp(healthy, transport, defaultTopics.modelUpdates, 2), {
      timeoutMs: 60_000,
      what: 'caughtUp(healthy, transport, defaultTopics.modelUpdates, 2)',
    });
    await healthy.publish();
    await waitFor(() => reader.current !== null, { timeoutMs: 60_000, what: 'reader.current !== null' });
    const snap = reader.current;
    expect(snap?.version).toBe(healthy.lastVersion);
    expect(snap?.version).not.toBe(failedVersion);
    expect(snap?.tables.get('IMAGE')?.vocab.size).toBe(split.train.length);
    expect(snap?.tables.get('WORD')?.vocab.size).toBe(wordsOf(trainer).vocab.size);
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
    await producer.send(defaultTopics.raw('image-labels'), [
      {
        key: Buffer.from(newcomer),
        value: await rawImages.encode({ imageId: newcomer, labels: split.train[0].labels, eventTime: Date.now(), weight: null, source: 'test' }),
      },
    ]);
    await waitFor(() => imagesOf(trainer).images.size === split.train.length + 1, {
      timeoutMs: 60_000,
      what: 'imagesOf(trainer).images.size === split.train.length + 1',
    });
    await trainer.checkpoint();
    const before = snap?.version ?? 0;
    await waitFor(() => transport.read(defaultTopics.modelUpdates, 0, 0, 1e9).length + transport.read(defaultTopics.modelUpdates, 1, 0, 1e9).length > 0, {
      timeoutMs: 60_000,
      what: 'transport.read(defaultTopics.modelUpdates, 0, 0, 1e9).length + transport.read(defaultTopics.modelUpdates, 1, 0, 1e9)....',
    });
    await waitFor(() => caughtUp(standby, transport, defaultTopics.modelUpdates, 2), {
      timeoutMs: 60_000,
      what: 'caughtUp(standby, transport, defaultTopics.modelUpdates, 2)',
    });
    await standby.publish();
    await waitFor(() => (reader.current?.version ?? 0) > before, { timeoutMs: 60_000, what: '(reader.current?.version ?? 0) > before' });
    expect(reader.current?.version).toBe(standby.lastVersion);
    expect(reader.current?.tables.get('IMAGE')?.vocab.size).toBe(split.train.length + 1);
    expect(reader.current?.tables.get('WORD')?.vocab.size).toBe(wordsOf(trainer).vocab.size);
    await Promise.all([ingest.stop(), trainer.stop(), standby.stop(), reader.stop()]);
  });
});
