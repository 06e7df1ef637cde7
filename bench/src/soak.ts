/**
 * Soak benchmark on Kafka: the three services as processes under a sustained event rate for a
 * bounded time, with an unbounded id space (every image event names a new image; labels and words
 * outnumber their caps) so that only the configured caps keep the model, rank tables and
 * snapshots finite. Checks, from the services' own /metrics and the broker's offsets:
 *  - every service's resident memory stays under --memory-bound-mb (V8's old space is capped
 *    below it with --max-old-space-size);
 *  - heap in use in the last minute of the feed is within --heap-tolerance of the first minute;
 *  - consumer lag of ingest and trainer returns to zero after the feed stops;
 *  - nothing is dead-lettered, and the caps actually engaged (names refused).
 *
 *   npm run bench:soak -- [--minutes 5] [--rate 1000] [--memory-bound-mb 768] [--heap-tolerance 0.2] [--out FILE]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { generateSynthetic, loadCorpusSentences } from '@freshet/datasets';
import { feedEvents, toWindows, topicsWithPrefix } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { runEnvironment } from './lib/environment.js';
import { benchBroker, groupLag, healthz, scrape, startService, type BenchService } from './lib/services.js';

const args = parseArgs(process.argv.slice(2));
const minutes = numberArg(args, 'minutes', 5);
const rate = numberArg(args, 'rate', 1000);
const memoryBoundMb = numberArg(args, 'memory-bound-mb', 768);
const heapTolerance = numberArg(args, 'heap-tolerance', 0.2);
const sampleEveryMs = numberArg(args, 'sample-ms', 5000);
const drainTimeoutMs = numberArg(args, 'drain-timeout-s', 180) * 1000;
if (minutes < 2) throw new Error('soak: --minutes must be at least 2 (first and last minute are compared)');
const caps = { images: numberArg(args, 'image-cap', 10_000), labels: numberArg(args, 'label-cap', 2_000), words: numberArg(args, 'vocab-cap', 10_000) };

// the events: half image-label events with ids never seen before and labels from a 5,000-label
// synthetic vocabulary (above the label cap), half text windows cycling through both corpora
const total = Math.round(minutes * 60 * rate);
const imageCount = Math.floor(total / 2);
const synthetic = generateSynthetic({ images: imageCount, labels: 5000, rank: 16, zipf: 1.0, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: 7 });
const images = synthetic.map((img, i) => ({ id: `soak-${i}`, labels: img.labels }));
const baseWindows = ['sotu', 'moby-dick'].flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24));
const windows = Array.from({ length: total - imageCount }, (_, i) => {
  const w = baseWindows[i % baseWindows.length];
  return { documentId: `${w.documentId}-${Math.floor(i / baseWindows.length)}`, tokens: w.tokens };
});

interface Sample {
  t: number;
  phase: 'feed' | 'drain';
  lag: { ingest: number; trainer: number };
  rssMb: Record<string, number>;
  heapUsedMb: Record<string, number>;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const broker = await benchBroker();
const services: BenchService[] = [];
try {
  const prefix = `soak-${Date.now()}.`;
  const topics = topicsWithPrefix(prefix);
  const env = { KAFKA_BROKERS: broker.brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '4' };
  // V8's old space bounded below the memory bound, so a leak shows as an out-of-memory crash
  const nodeArgs = [`--max-old-space-size=${Math.floor(memoryBoundMb * 0.75)}`];
  services.push(await startService('ingest', env, nodeArgs));
  services.push(
    await startService(
      'trainer',
      {
        ...env,
        FRESHET_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'soak-ck-')),
        FRESHET_CHECKPOINT_EVERY_MS: '5000',
        FRESHET_IMAGE_CAP: String(caps.images),
        FRESHET_LABEL_CAP: String(caps.labels),
        FRESHET_VOCAB_CAP: String(caps.words),
      },
      nodeArgs,
    ),
  );
  services.push(await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '10000' }, nodeArgs));
  const [ingest, trainer, publisher] = services;
  const transport = new KafkaTransport({ brokers: broker.brokers.split(','), clientId: 'bench-soak' });
  const admin = await transport.admin();
  const samples: Sample[] = [];
  const t0 = Date.now();
  let phase: Sample['phase'] = 'feed';
  // ingest's lag on the raw topics, the trainer's on the training topics (it commits at checkpoints)
  const lagNow = async (): Promise<Sample['lag']> => ({
    ingest: await groupLag(admin, `${prefix}freshet-ingest`, [topics.rawImageLabels, topics.rawTextWindows]),
    trainer: await groupLag(admin, `${prefix}freshet-trainer`, [topics.trainImageLabels, topics.trainTextWindows]),
  });
  const takeSample = async (): Promise<Sample> => {
    const rssMb: Record<string, number> = {};
    const heapUsedMb: Record<string, number> = {};
    for (const s of services) {
      if (s.child.exitCode !== null) throw new Error(`${s.name} exited with ${s.child.exitCode} during the soak`);
      const m = await scrape(s.port);
      rssMb[s.name] = (m.get('process_resident_memory_bytes') ?? NaN) / 2 ** 20;
      heapUsedMb[s.name] = (m.get('nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20;
    }
    const sample = { t: (Date.now() - t0) / 1000, phase, lag: await lagNow(), rssMb, heapUsedMb };
    samples.push(sample);
    return sample;
  };
  let sampling = true;
  let samplerError: unknown = null;
  const sampler = (async () => {
    while (sampling) {
      try {
        const s = await takeSample();
        process.stderr.write(`soak t=${s.t.toFixed(0)}s lag ingest=${s.lag.ingest} trainer=${s.lag.trainer} rss ${Object.entries(s.rssMb).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')} MiB\n`);
      } catch (err) {
        samplerError = err;
        return;
      }
      await new Promise((r) => setTimeout(r, sampleEveryMs));
    }
  })();
  const registry = new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
  const fed = await feedEvents(transport, registry, topics, { images, windows, rate, batch: 100, source: 'soak' });
  const feedEnded = (Date.now() - t0) / 1000;
  phase = 'drain';
  // lag back to zero: every raw record forwarded and every training record checkpointed
  let drainedAt: number | null = null;
  const drainDeadline = Date.now() + drainTimeoutMs;
  while (Date.now() < drainDeadline && samplerError === null) {
    const l = await lagNow();
    if (l.ingest === 0 && l.trainer === 0) {
      drainedAt = (Date.now() - t0) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  sampling = false;
  await sampler;
  if (samplerError !== null) throw samplerError;
  const final = await takeSample();
  const trainerHealth = await healthz(trainer.port);
  const trainerMetrics = await scrape(trainer.port);
  const ingestMetrics = await scrape(ingest.port);
  const publisherMetrics = await scrape(publisher.port);
  const firstMinute = samples.filter((s) => s.phase === 'feed' && s.t <= 60);
  const lastMinute = samples.filter((s) => s.phase === 'feed' && s.t > feedEnded - 60);
  const names = services.map((s) => s.name);
  const heap = Object.fromEntries(
    names.map((n) => {
      const first = mean(firstMinute.map((s) => s.heapUsedMb[n]));
      const last = mean(lastMinute.map((s) => s.heapUsedMb[n]));
      // resident memory also holds the vectors (typed arrays live outside V8's heap): reported, not judged
      const rssFirst = mean(firstMinute.map((s) => s.rssMb[n]));
      const rssLast = mean(lastMinute.map((s) => s.rssMb[n]));
      return [n, { firstMinuteMeanMb: first, lastMinuteMeanMb: last, growth: last / first - 1, withinTolerance: last <= first * (1 + heapTolerance), rssFirstMinuteMeanMb: rssFirst, rssLastMinuteMeanMb: rssLast, rssGrowth: rssLast / rssFirst - 1 }];
    }),
  );
  const peakRss = Object.fromEntries(names.map((n) => [n, Math.max(...samples.map((s) => s.rssMb[n]))]));
  const deadLetters = ingestMetrics.get('freshet_ingest_rejections_total') ?? 0;
  const refused = trainerMetrics.get('freshet_vocabulary_refused') ?? 0;
  const checks = {
    memoryUnderBound: names.every((n) => peakRss[n] < memoryBoundMb),
    heapGrowthWithinTolerance: names.every((n) => heap[n].withinTolerance),
    lagReturnedToZero: drainedAt !== null,
    noDeadLetters: deadLetters === 0,
    capsEngaged: refused > 0,
    allEventsApplied: trainerHealth.applied === total,
  };
  const result = {
    benchmark: 'soak',
    minutes,
    targetRate: rate,
    events: total,
    achievedFeedRate: fed.sent / fed.seconds,
    caps,
    memoryBoundMb,
    heapTolerance,
    feedEndedSeconds: feedEnded,
    lagZeroSeconds: drainedAt,
    drainSeconds: drainedAt === null ? null : drainedAt - feedEnded,
    maxLag: { ingest: Math.max(...samples.map((s) => s.lag.ingest)), trainer: Math.max(...samples.map((s) => s.lag.trainer)) },
    peakRssMb: peakRss,
    heap,
    final: { rssMb: final.rssMb, heapUsedMb: final.heapUsedMb },
    trainer: { ...trainerHealth, namesRefused: refused },
    deadLetters,
    snapshots: publisherMetrics.get('freshet_snapshots_published_total') ?? 0,
    checks,
    passed: Object.values(checks).every(Boolean),
    samples,
    environment: runEnvironment(),
  };
  const json = JSON.stringify(result, null, 2);
  const out = args.get('out');
  if (out !== undefined) writeFileSync(out, json + '\n');
  process.stdout.write(json + '\n');
  await admin.close();
  if (!result.passed) process.exitCode = 1;
} finally {
  for (const s of services) s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2000));
  await broker.stop();
}
process.exit(process.exitCode ?? 0);
