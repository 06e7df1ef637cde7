import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import avro from 'avsc';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { loadCorpusSentences, readImageLabelFile, dataFile, WORDNET_GLOSSES } from '@freshet/datasets';
import { SnapshotReader, TopicCatalogue, readToEnd, toWindows } from '@freshet/pipeline';
import { waitFor } from '@freshet/runtime';
import { KafkaTransport } from '@freshet/transport';
import { everythingApplied, feedData, metricValue, repoRoot, startService, stopService, type RunningService } from './services.js';

const brokers = inject('kafkaBrokers');
const chunkType = avro.Type.forSchema(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'snapshot-chunk.v4.avsc'), 'utf8')) as avro.Schema);

const manifestType = avro.Type.forSchema(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'snapshot-manifest.v4.avsc'), 'utf8')) as avro.Schema);

/**
 * Every chunk of the complete versions on the snapshot topic so far (a version whose manifest was
 * written; a write cut short leaves chunks without one, and the next version carries them again):
 * version, kind, ids and the zero-shot ids, decoded with the .avsc files alone.
 */
async function chunksOf(transport: KafkaTransport, topic: string): Promise<Array<{ version: number; kind: string; ids: string[]; zeroShot: string[] }>> {
  const out: Array<{ version: number; kind: string; ids: string[]; zeroShot: string[] }> = [];
  const complete = new Set<number>();
  await readToEnd(transport, topic, (r) => {
    const key = r.key?.toString() ?? '';
    if (r.value === null) return;
    if (key === 'manifest' || key === 'delta') complete.add(Number((manifestType.fromBuffer(r.value.subarray(5)) as { version: number }).version));
    else if (key.startsWith('v')) out.push(chunkType.fromBuffer(r.value.subarray(5)) as (typeof out)[number]);
  });
  return out.filter((c) => complete.has(Number(c.version)));
}

describe('zero-shot labels on a real Kafka broker', () => {
  const services: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s)));
  });

  it(
    'a label that only text windows have named is ranked for images in the first snapshot that holds its word, marked zero-shot',
    { timeout: 300_000 },
    async () => {
      const prefix = `zs-${randomUUID().slice(0, 8)}.`;
      const env = { KAFKA_BROKERS: brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '2' };
      const images = readImageLabelFile(dataFile('mirflickr25k', 'train.tsv'));
      const dir = mkdtempSync(join(tmpdir(), 'freshet-zs-'));
      // the catalogue: every MIRFLICKR label; sunset never reaches an image event
      const catalogue = join(dir, 'labels.txt');
      writeFileSync(catalogue, [...new Set(images.flatMap((i) => i.labels))].join('\n') + '\n');
      const withoutSunset = images.map((i) => ({ id: i.id, labels: i.labels.filter((l) => l !== 'sunset') })).filter((i) => i.labels.length > 0);
      const moby = toWindows('moby', loadCorpusSentences(['moby-dick']), 24);
      const sunsetFree = moby.filter((w) => !w.tokens.includes('sunset')).slice(0, 3000);
      const glosses = toWindows('wordnet', loadCorpusSentences([WORDNET_GLOSSES]), 24);
      const aboutSunset = glosses.filter((w) => w.tokens.includes('sunset'));
      expect(aboutSunset.length).toBeGreaterThan(3);

      services.push(await startService('ingest', env));
      const trainer = await startService('trainer', {
        ...env,
        FRESHET_CHECKPOINT_DIR: join(dir, 'ckpt'),
        FRESHET_CHECKPOINT_EVERY_MS: '1000',
        FRESHET_IMAGE_DIM: '32',
        FRESHET_WORD_DIM: '32',
      });
      services.push(trainer);
      const publisher = await startService('publisher', {
        ...env,
        FRESHET_PUBLISH_EVERY_MS: '1000',
        FRESHET_ZERO_SHOT: 'map',
        FRESHET_ZERO_SHOT_LABELS: catalogue,
      });
      services.push(publisher);

      const topics = new TopicCatalogue(prefix);
      const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'it-zero-shot' });
      const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
      await feedData(transport, registry, topics, { images: withoutSunset, windows: sunsetFree, rate: 0, batch: 200 });
      await everythingApplied(trainer, 'images and sunset-free text');
      // the link from words to labels is fit once learned labels have word vectors; sunset's word has none yet
      await waitFor(async () => (await metricValue(publisher, 'freshet_zero_shot_seen_labels_with_words')) >= 10, {
        timeoutMs: 60_000,
        what: 'learned labels with word vectors in a snapshot',
      });
      expect(await metricValue(publisher, 'freshet_zero_shot_labels')).toBe(0);
      const before = await chunksOf(transport, topics.snapshots);
      expect(before.some((c) => c.ids.includes('sunset'))).toBe(false);

      // text about sunsets arrives (WordNet's glosses): the word gets a vector, and its label a row
      await feedData(transport, registry, topics, { windows: aboutSunset, rate: 0 });
      await everythingApplied(trainer, 'the sunset glosses');
      let chunks: Awaited<ReturnType<typeof chunksOf>> = [];
      await waitFor(
        async () => {
          chunks = await chunksOf(transport, topics.snapshots);
          return chunks.some((c) => c.kind === 'LABEL' && c.ids.includes('sunset'));
        },
        { timeoutMs: 60_000, what: 'a snapshot holding the label sunset' },
      );
      const firstWord = Math.min(...chunks.filter((c) => c.kind === 'WORD' && c.ids.includes('sunset')).map((c) => c.version));
      const firstLabel = Math.min(...chunks.filter((c) => c.kind === 'LABEL' && c.ids.includes('sunset')).map((c) => c.version));
      // the same version: the label is rankable as soon as its word's vector is published
      const why = `zero-shot refresh failures: ${await metricValue(publisher, 'freshet_zero_shot_failures_total')}; publisher log:\n${publisher.log.join('').slice(-4000)}`;
      expect(firstLabel, why).toBe(firstWord);
      const labelChunk = chunks.find((c) => c.version === firstLabel && c.kind === 'LABEL' && c.ids.includes('sunset'));
      expect(labelChunk?.zeroShot).toContain('sunset');

      // a reader ranks it for images, marked
      const reader = new SnapshotReader(transport, registry, topics, `zs-reader-${randomUUID()}`);
      const snap = await reader.loadLatest();
      const labels = snap?.tables.get('LABEL');
      expect(labels?.zeroShot.has('sunset')).toBe(true);
      const ranked = reader.nearest('IMAGE', withoutSunset[0].id, 'LABEL', labels?.vocab.size ?? 0);
      expect(ranked.find((r) => r.id === 'sunset')).toMatchObject({ zeroShot: true });
      expect(ranked.filter((r) => r.zeroShot !== true).length).toBeGreaterThan(20);
      expect(await metricValue(publisher, 'freshet_zero_shot_labels')).toBe(1);
      expect(await metricValue(publisher, 'freshet_zero_shot_failures_total')).toBe(0);
    },
  );
});
