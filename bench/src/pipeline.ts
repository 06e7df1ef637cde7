/**
 * End-to-end pipeline benchmark on Kafka: events per second through ingest -> trainer ->
 * publisher (each its own process), consumer lag under that load, freshness (event time to the
 * first snapshot manifest that covers it) p50/p99, words/s and label pairs/s beside events/s,
 * and the trainer alone (in-process, in-memory topics, same events, same defaults) for the ratio.
 *
 *   npm run bench:pipeline -- [--images FILE] [--corpus sotu,moby-dick] [--windows N] [--rate 0]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry, type SnapshotManifest } from '@freshet/avro';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { Codecs, TopicCatalogue, feedEvents, imageLabelSource, normaliseImageLabel, normaliseTextWindow, textWindowSource, toWindows } from '@freshet/pipeline';
import { KafkaTransport, type Transport } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { benchBroker, groupLag, healthz, startService } from './lib/services.js';
import { trainerAlone } from './lib/trainer-alone.js';

const args = parseArgs(process.argv.slice(2));
const imagesFile = args.get('images') ?? dataFile('mirflickr25k', 'all.tsv');
const corpus = (args.get('corpus') ?? 'sotu,moby-dick').split(',');
const maxWindows = numberArg(args, 'windows', 20_000);
const rate = numberArg(args, 'rate', 0);

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const images = readImageLabelFile(imagesFile);
const windows = corpus.flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24)).slice(0, maxWindows);
const total = images.length + windows.length;

// what the trainer learns from: tokens and (image, label) pairs after ingest's normalisation
const now = Date.now();
const tokens = windows.reduce((n, w, i) => {
  const r = normaliseTextWindow({ documentId: w.documentId, sequence: i, tokens: w.tokens, eventTime: now });
  return n + (r.ok ? r.value.tokens.length : 0);
}, 0);
const pairs = images.reduce((n, img) => {
  const r = normaliseImageLabel({ imageId: img.id, labels: img.labels, eventTime: now, weight: null, source: null });
  return n + (r.ok ? r.value.labels.length : 0);
}, 0);

async function endToEnd(transport: Transport, brokers: string): Promise<Record<string, unknown>> {
  const prefix = `bench-${Date.now()}.`;
  const topics = new TopicCatalogue(prefix);
  const env = { KAFKA_BROKERS: brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '4' };
  const ingest = await startService('ingest', env);
  const trainer = await startService('trainer', {
    ...env,
    FRESHET_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'bench-ck-')),
    FRESHET_CHECKPOINT_EVERY_MS: '2000',
  });
  const publisher = await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '2000' });
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  const manifests: SnapshotManifest[] = [];
  const manifestCodec = new Codecs(registry, topics).manifests();
  const reader = await transport.consumer({ groupId: `bench-reader-${prefix}`, topics: [topics.snapshots], fromBeginning: true });
  void reader.run(async (b) => {
    // whole versions and deltas alike: each covers the events up to its watermark
    for (const r of b.records)
      if (r.key?.toString() === 'manifest' || r.key?.toString() === 'delta') manifests.push((await manifestCodec.decode(r.value)).value);
  });
  const admin = await transport.admin();
  const lagSamples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      lagSamples.push(
        await groupLag(
          admin,
          `${prefix}freshet-trainer`,
          topics.streams.map((st) => topics.train(st)),
        ),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const sendTimes: number[] = [];
  const t0 = Date.now();
  await feedEvents(transport, registry, topics, {
    sources: [imageLabelSource(images), textWindowSource(windows)],
    rate,
    batch: 200,
    clock: () => {
      const now = Date.now();
      sendTimes.push(now);
      return now;
    },
  });
  const fedSeconds = (Date.now() - t0) / 1000;
  const alive = (): void => {
    for (const s of [ingest, trainer, publisher]) if (s.child.exitCode !== null) throw new Error(`${s.name} exited with ${s.child.exitCode} during the run`);
  };
  while ((await healthz(trainer.port)).applied < total) {
    alive();
    await new Promise((r) => setTimeout(r, 100));
  }
  const trainedSeconds = (Date.now() - t0) / 1000;
  const lastEvent = sendTimes[sendTimes.length - 1];
  while (!manifests.some((m) => m.eventTimeHighWatermark >= lastEvent)) {
    alive();
    await new Promise((r) => setTimeout(r, 100));
  }
  const visibleSeconds = (Date.now() - t0) / 1000;
  sampling = false;
  await sampler;
  // freshness of every event: the first manifest whose high watermark covers its event time
  const sorted = [...manifests].sort((a, b) => a.createdAt - b.createdAt);
  const freshness: number[] = [];
  for (const t of sendTimes) {
    const m = sorted.find((x) => x.eventTimeHighWatermark >= t);
    if (m) freshness.push((m.createdAt - t) / 1000);
  }
  for (const s of [ingest, trainer, publisher]) s.child.kill('SIGTERM');
  await reader.close();
  await admin.close();
  return {
    events: total,
    feedSeconds: fedSeconds,
    trainedSeconds,
    eventsPerSecondEndToEnd: total / trainedSeconds,
    wordsPerSecondEndToEnd: tokens / trainedSeconds,
    labelPairsPerSecondEndToEnd: pairs / trainedSeconds,
    snapshotIntervalSeconds: 2,
    allVisibleInSnapshotSeconds: visibleSeconds,
    lag: { max: Math.max(...lagSamples), samples: lagSamples },
    freshnessSeconds: { p50: percentile(freshness, 0.5), p99: percentile(freshness, 0.99), max: percentile(freshness, 1), events: freshness.length },
    snapshots: manifests.length,
  };
}

const broker = await benchBroker();
const brokers = broker.brokers;
try {
  // 1. the trainer alone: the same events on in-memory training topics, the service's defaults
  const isolated = await trainerAlone(images, windows, { threads: availableParallelism(), seed: 1 });
  const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'bench-pipeline' });
  const e2e = await endToEnd(transport, brokers);
  const result = {
    benchmark: 'pipeline',
    images: imagesFile,
    corpus,
    imageEvents: images.length,
    textWindows: windows.length,
    rate: rate || 'as fast as possible',
    endToEnd: e2e,
    trainerInIsolation: isolated,
    ratioEndToEndVsIsolated: (e2e.eventsPerSecondEndToEnd as number) / isolated.eventsPerSecond,
    freshnessP99WithinIntervalPlus1s: ((e2e.freshnessSeconds as { p99: number | null }).p99 ?? Infinity) <= 2 + 1,
    environment: runEnvironment(),
  };
  emitResult(result, args.get('out'));
} finally {
  await broker.stop();
}
process.exit(0);
