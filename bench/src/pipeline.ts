/**
 * End-to-end pipeline benchmark on Kafka: events per second through ingest -> trainer ->
 * publisher (each its own process), consumer lag under that load, freshness (event time to the
 * first snapshot manifest that covers it) p50/p99, and the trainer's throughput in isolation
 * (in-process, in-memory topics, same events) for the ratio.
 *
 *   npm run bench:pipeline -- [--images FILE] [--corpus sotu,moby-dick] [--windows N] [--rate 0]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AvroCodec, LocalSchemaRegistry, loadSchemaFiles, type SnapshotManifest } from '@freshet/avro';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { IngestProcessor, Trainer, commonOptions, defaultIngestLimits, feedEvents, schemaTexts, toWindows, topicsWithPrefix, trainerOptions, trainerOptionsFrom } from '@freshet/pipeline';
import { createLogger, createRegistry, parseOptions } from '@freshet/runtime';
import { KafkaTransport, MemoryTransport, type Transport } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { runEnvironment } from './lib/environment.js';
import { benchBroker, groupLag, healthz, startService } from './lib/services.js';

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

const quiet = createLogger('bench', { level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const images = readImageLabelFile(imagesFile);
const windows = corpus.flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24)).slice(0, maxWindows);
const total = images.length + windows.length;

// 1. the trainer alone: in-process, in-memory topics, the same events already normalised by ingest
async function trainerInIsolation(): Promise<{ eventsPerSecond: number; seconds: number }> {
  const transport = new MemoryTransport({ partitions: 4 });
  const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
  const topics = topicsWithPrefix('iso.');
  await feedEvents(transport, registry, topics, { images, windows, rate: 0, batch: 500 });
  const ingest = new IngestProcessor({ transport, registry, topics, limits: defaultIngestLimits, groupId: 'ingest', logger: quiet, metrics: createRegistry('ingest') });
  await ingest.start();
  while (ingest.handled < total) await new Promise((r) => setTimeout(r, 50));
  await ingest.stop();
  const options = parseOptions([...commonOptions, ...trainerOptions], ['--brokers', 'memory', '--checkpoint-dir', mkdtempSync(join(tmpdir(), 'bench-iso-')), '--checkpoint-every-ms', '1000000000'], {});
  const trainer = new Trainer(trainerOptionsFrom({ options, env: {}, logger: quiet, metrics: createRegistry('trainer'), transport, registry, topics, fail: (err) => { throw err; } }));
  const t0 = performance.now();
  await trainer.start();
  while (trainer.applied < total) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  await trainer.stop({ checkpoint: false });
  return { eventsPerSecond: total / seconds, seconds };
}

async function endToEnd(transport: Transport, brokers: string): Promise<Record<string, unknown>> {
  const prefix = `bench-${Date.now()}.`;
  const topics = topicsWithPrefix(prefix);
  const env = { KAFKA_BROKERS: brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '4' };
  const ingest = await startService('ingest', env);
  const trainer = await startService('trainer', { ...env, FRESHET_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'bench-ck-')), FRESHET_CHECKPOINT_EVERY_MS: '2000' });
  const publisher = await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '2000' });
  const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
  const manifests: SnapshotManifest[] = [];
  const manifestCodec = new AvroCodec<SnapshotManifest>(registry, topics.snapshots, schemaTexts().manifest.text);
  const reader = await transport.consumer({ groupId: `bench-reader-${prefix}`, topics: [topics.snapshots], fromBeginning: true });
  void reader.run(async (b) => {
    for (const r of b.records) if (r.key?.toString() === 'manifest') manifests.push((await manifestCodec.decode(r.value)).value);
  });
  const admin = await transport.admin();
  const lagSamples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      lagSamples.push(await groupLag(admin, `${prefix}freshet-trainer`, [topics.trainImageLabels, topics.trainTextWindows]));
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const sendTimes: number[] = [];
  const t0 = Date.now();
  await feedEvents(transport, registry, topics, { images, windows, rate, batch: 200, clock: () => {
    const now = Date.now();
    sendTimes.push(now);
    return now;
  } });
  const fedSeconds = (Date.now() - t0) / 1000;
  while ((await healthz(trainer.port)).applied < total) await new Promise((r) => setTimeout(r, 100));
  const trainedSeconds = (Date.now() - t0) / 1000;
  const lastEvent = sendTimes[sendTimes.length - 1];
  while (!manifests.some((m) => m.eventTimeHighWatermark >= lastEvent)) await new Promise((r) => setTimeout(r, 100));
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
    allVisibleInSnapshotSeconds: visibleSeconds,
    lag: { max: Math.max(...lagSamples), samples: lagSamples },
    freshnessSeconds: { p50: percentile(freshness, 0.5), p99: percentile(freshness, 0.99), max: percentile(freshness, 1), events: freshness.length },
    snapshots: manifests.length,
  };
}

const broker = await benchBroker();
const brokers = broker.brokers;
try {
  const isolated = await trainerInIsolation();
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
    environment: runEnvironment(),
  };
  const json = JSON.stringify(result, null, 2);
  const out = args.get('out');
  if (out !== undefined) writeFileSync(out, json + '\n');
  process.stdout.write(json + '\n');
} finally {
  await broker.stop();
}
process.exit(0);
