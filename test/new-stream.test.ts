import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, SchemaSet, defaultSchemaDir } from '@freshet/avro';
import { readImageLabelFile, dataFile } from '@freshet/datasets';
import {
  Codecs,
  IngestProcessor,
  PublisherProcessor,
  SnapshotReader,
  TextWindowsLearner,
  TopicCatalogue,
  Trainer,
  feedEvents,
  imageLabelSource,
  imageLabelsStream,
  publisherSettings,
  trainerSettings,
} from '@freshet/pipeline';
import { createLogger, createRegistry, waitFor } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Writable } from 'node:stream';
import { tagSetsStream, type TagSetEvent } from './streams/tag-sets/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const quiet = createLogger('new-stream', { destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('a stream added as one folder and a line in the stream list', () => {
  it('runs through ingest, the trainer and the publisher on the in-memory transport, beside the image-label stream', async () => {
    // the registry of this deployment: image labels and the test-only tag sets (its schema lives in its folder)
    const topics = new TopicCatalogue('', [imageLabelsStream, tagSetsStream], SchemaSet.load([defaultSchemaDir(), join(here, 'streams', 'tag-sets')]));
    expect(topics.raw('tag-sets')).toBe('freshet.raw.tag-sets');
    expect(topics.specs(2).map((t) => t.topic)).toEqual(expect.arrayContaining(['freshet.raw.tag-sets', 'freshet.train.tag-sets', 'freshet.raw.image-labels']));
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry(topics.schemaTexts());
    const wiring = { transport, registry, topics, logger: quiet };
    const ingest = new IngestProcessor({ ...wiring, groupId: 'ingest', metrics: createRegistry('ingest') });
    const trainer = new Trainer({
      ...trainerSettings.with({ checkpointDir: mkdtempSync(join(tmpdir(), 'freshet-new-stream-')), checkpointEveryMs: 1e9, threads: 1 }),
      streams: { 'image-labels': { dim: 16, imageCap: 10_000, labelCap: 1000, replayCapacity: 10_000 }, 'tag-sets': { dim: 16, vocabCap: 1000 } },
      ...wiring,
      groupId: 'trainer',
      metrics: createRegistry('trainer'),
    });
    const publisher = new PublisherProcessor({
      ...publisherSettings.with({ publishEveryMs: 1e9, publishEveryUpdates: 1e9 }),
      ...wiring,
      groupId: 'publisher',
      metrics: createRegistry('publisher'),
    });
    const reader = new SnapshotReader(transport, registry, topics, 'reader');
    await Promise.all([ingest.start(), trainer.start(), publisher.start(), reader.start()]);

    // the same photos once as image-label events, once as the tags their users gave them
    const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')).slice(0, 2000);
    const tags = images.map((i) => ({ itemId: i.id, tags: i.labels, eventTime: 0 }));
    const tagSource = { stream: 'tag-sets', count: tags.length, event: (i: number, now: number): TagSetEvent => ({ ...tags[i], eventTime: now }) };
    await feedEvents(transport, registry, topics, { sources: [imageLabelSource(images), tagSource], rate: 0 });
    // a bad one: no tags at all, dead-lettered with the reason like any stream's
    const producer = await transport.producer();
    await producer.send(topics.raw('tag-sets'), [
      { key: Buffer.from('empty'), value: await new Codecs(registry, topics).raw(tagSetsStream).encode({ itemId: 'empty', tags: [], eventTime: Date.now() }) },
    ]);
    await waitFor(() => trainer.applied >= 2 * images.length, { timeoutMs: 60_000, what: 'the trainer to apply both streams' });
    await waitFor(() => transport.endOffset(topics.deadLetters, 0) >= 1, { timeoutMs: 30_000, what: 'the empty tag set dead-lettered' });

    const tagModel = trainer.learnerOf('tag-sets', TextWindowsLearner).model;
    const distinct = new Set(images.flatMap((i) => i.labels));
    expect(tagModel.vocab.size).toBe(distinct.size);
    expect(tagModel.vocab.counts.reduce((a, b) => a + b, 0)).toBe(images.reduce((n, i) => n + i.labels.length, 0));
    expect(trainer.details()).toMatchObject({ images: images.length });

    // a checkpoint sends every row; the publisher's version holds the tags as WORD vectors beside the images
    await trainer.checkpoint();
    const admin = await transport.admin();
    const ends = await admin.endOffsets(topics.modelUpdates);
    await admin.close();
    await waitFor(() => ends.every((e) => (publisher.consumed.get(`${e.topic}#${e.partition}`) ?? 0) >= e.offset), {
      timeoutMs: 30_000,
      what: 'the publisher to read every update',
    });
    await publisher.publish();
    await waitFor(() => reader.current !== null, { timeoutMs: 30_000, what: 'a snapshot' });
    expect(reader.current?.tables.get('WORD')?.vocab.size).toBe(distinct.size);
    expect(reader.current?.tables.get('IMAGE')?.vocab.size).toBe(images.length);
    expect(reader.nearest('WORD', 'sky', 'WORD', 3)).toHaveLength(3);
    await Promise.all([ingest.stop(), trainer.stop(), publisher.stop(), reader.stop()]);
  });
});
