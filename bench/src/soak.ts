/**
 * Soak benchmark on Kafka: the three services as processes under a sustained event rate for a
 * bounded time, with an unbounded id space (every image event names a new image; labels and words
 * outnumber their caps) so that only the configured caps keep the model, rank tables and
 * snapshots finite. Checks, from the services' own /metrics and the broker's offsets:
 *  - every service's resident memory stays under --memory-bound-mb (V8's old space is capped
 *    below it with --max-old-space-size);
 *  - heap in use in the last minute of the feed is within --heap-tolerance of the heap once the
 *    caps are full and before the first kill (30 s to the first kill). Compared by each window's
 *    floor (its lowest sample: the heap after a collection), since heap in use sampled every 5 s
 *    swings 50% between collections; the means are reported beside it;
 *  - consumer lag of ingest and trainer returns to zero after the feed stops;
 *  - the caps actually engaged (names refused);
 *  - day two (lib/soak-faults.ts): after 40% of the events the broker is stopped and started again
 *    (every service unready within 30 s, ready within 30 s of its return), then a poison record
 *    goes to every raw partition (each is dead-lettered, nothing else is); after 70% the image raw
 *    topic is deleted and created again (its new events are trained, not skipped as replays);
 *  - producers compress with every codec Kafka has (none, gzip, snappy, lz4, zstd: one feeder
 *    each, and each service producing with another), and each service is killed with SIGKILL
 *    once during the feed and started again: every event still reaches the model exactly once
 *    (the trainer's model-lifetime event count equals the events fed, replays skipped);
 *  - /healthz answers within 100 ms at the 99th percentile under that load (polled every 250 ms).
 *
 *   npm run bench:soak -- [--minutes 5] [--rate 1000] [--memory-bound-mb 768] [--heap-tolerance 0.2] [--out FILE]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry } from '@freshet/avro';
import { generateSynthetic, loadCorpusSentences } from '@freshet/datasets';
import { Codecs, TopicCatalogue, feedEvents, imageLabelSource, imageLabelsStream, textWindowSource, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { HealthProber } from './lib/probes.js';
import { quantile } from './lib/stats.js';
import { heapReport, type Sample } from './lib/soak-report.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { benchBroker, groupLag, healthz, scrape, startService, type BenchService } from './lib/services.js';
import { deadLetterKeys, recreateRawTopic, restartBroker, sendPoison, type BrokerRestart, type TopicRecreation } from './lib/soak-faults.js';

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
const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
/** each service killed with SIGKILL once, at these shares of the feed, then started again */
const kills = [
  { service: 'ingest', at: 0.3 },
  { service: 'trainer', at: 0.5 },
  { service: 'publisher', at: 0.7 },
].filter(() => args.get('kill') !== 'false');
const baseWindows = ['sotu', 'moby-dick'].flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24));
const windows = Array.from({ length: total - imageCount }, (_, i) => {
  const w = baseWindows[i % baseWindows.length];
  return { documentId: `${w.documentId}-${Math.floor(i / baseWindows.length)}`, tokens: w.tokens };
});

const broker = await benchBroker();
const services: BenchService[] = [];
try {
  const prefix = `soak-${Date.now()}.`;
  const topics = new TopicCatalogue(prefix);
  const env = { KAFKA_BROKERS: broker.brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '4' };
  // V8's old space bounded below the memory bound, so a leak shows as an out-of-memory crash
  const nodeArgs = [`--max-old-space-size=${Math.floor(memoryBoundMb * 0.75)}`];
  const checkpointDir = mkdtempSync(join(tmpdir(), 'soak-ck-'));
  const serviceEnv: Record<string, Record<string, string>> = {
    ingest: { ...env, FRESHET_PRODUCER_COMPRESSION: 'zstd' },
    trainer: {
      ...env,
      FRESHET_PRODUCER_COMPRESSION: 'lz4',
      FRESHET_CHECKPOINT_DIR: checkpointDir,
      FRESHET_CHECKPOINT_EVERY_MS: '5000',
      FRESHET_IMAGE_CAP: String(caps.images),
      FRESHET_LABEL_CAP: String(caps.labels),
      FRESHET_VOCAB_CAP: String(caps.words),
    },
    publisher: { ...env, FRESHET_PRODUCER_COMPRESSION: 'snappy', FRESHET_PUBLISH_EVERY_MS: '10000' },
  };
  for (const name of ['ingest', 'trainer', 'publisher']) services.push(await startService(name, serviceEnv[name], nodeArgs));
  const byName = (name: string): BenchService => services.find((x) => x.name === name) as BenchService;
  const transport = new KafkaTransport({ brokers: broker.brokers.split(','), clientId: 'bench-soak' });
  const feeders = codecs.map((compression) => new KafkaTransport({ brokers: broker.brokers.split(','), clientId: `bench-soak-${compression}`, compression }));
  const admin = await transport.admin();
  const samples: Sample[] = [];
  const t0 = Date.now();
  let phase: Sample['phase'] = 'feed';
  // ingest's lag on the raw topics, the trainer's on the training topics (it commits at checkpoints)
  const [raw, train] = [topics.streams.map((st) => topics.raw(st)), topics.streams.map((st) => topics.train(st))];
  const lagNow = async (): Promise<Sample['lag']> => ({
    ingest: await groupLag(admin, `${prefix}freshet-ingest`, raw),
    trainer: await groupLag(admin, `${prefix}freshet-trainer`, train),
  });
  const takeSample = async (): Promise<Sample> => {
    const rssMb: Record<string, number> = {};
    const heapUsedMb: Record<string, number> = {};
    for (const s of services) {
      if (s.child.exitCode !== null && !s.child.killed) throw new Error(`${s.name} exited with ${s.child.exitCode} during the soak`);
      if (s.child.killed) continue;
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
        process.stderr.write(
          `soak t=${s.t.toFixed(0)}s lag ingest=${s.lag.ingest} trainer=${s.lag.trainer} rss ${Object.entries(s.rssMb)
            .map(([k, v]) => `${k}=${v.toFixed(0)}`)
            .join(' ')} MiB\n`,
        );
      } catch (err) {
        samplerError = err;
        return;
      }
      await new Promise((r) => setTimeout(r, sampleEveryMs));
    }
  })();
  // /healthz latency of every live service, every 250 ms, for the whole run
  const prober = new HealthProber(services, t0);
  // kill -9 each service once during the feed, and start it again at once
  const feedSeconds = total / rate;
  const killLog: Array<{ service: string; atSeconds: number; readyAgainSeconds: number }> = [];
  const killer = (async () => {
    for (const k of kills) {
      const wait = t0 + k.at * feedSeconds * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const victim = byName(k.service);
      const at = (Date.now() - t0) / 1000;
      victim.child.kill('SIGKILL');
      await new Promise((r) => victim.child.once('exit', r));
      const replacement = await startService(k.service, serviceEnv[k.service], nodeArgs);
      services[services.indexOf(victim)] = replacement;
      killLog.push({ service: k.service, atSeconds: at, readyAgainSeconds: (Date.now() - t0) / 1000 });
      process.stderr.write(
        `soak t=${at.toFixed(0)}s killed ${k.service} (SIGKILL); ready again at ${killLog[killLog.length - 1].readyAgainSeconds.toFixed(0)}s\n`,
      );
    }
  })();
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  // one feeder per codec, each a fifth of the events at a fifth of the rate; the events in three
  // parts, with the day-two faults between them (while the services run)
  const share = <T>(xs: T[], k: number): T[] => xs.filter((_, i) => i % codecs.length === k);
  const part = <T>(xs: T[], from: number, to: number): T[] => xs.slice(Math.round(from * xs.length), Math.round(to * xs.length));
  const fed = { sent: 0, seconds: 0 };
  const feedPart = async (from: number, to: number): Promise<void> => {
    const feeds = await Promise.all(
      feeders.map((f, k) =>
        feedEvents(f, registry, topics, {
          sources: [imageLabelSource(share(part(images, from, to), k), `soak-${codecs[k]}`), textWindowSource(share(part(windows, from, to), k))],
          rate: rate / codecs.length,
          batch: 100,
        }),
      ),
    );
    fed.sent += feeds.reduce((n, f) => n + f.sent, 0);
    fed.seconds += Math.max(...feeds.map((f) => f.seconds));
  };
  const faults: { brokerRestart: BrokerRestart | null; recreated: TopicRecreation | null; poisonSent: number } = {
    brokerRestart: null,
    recreated: null,
    poisonSent: 0,
  };
  await feedPart(0, 0.4);
  if (broker.outage !== undefined) faults.brokerRestart = await restartBroker(() => services, broker.outage, t0);
  faults.poisonSent = await sendPoison(broker.brokers, topics, new Codecs(registry, topics).raw(imageLabelsStream));
  await feedPart(0.4, 0.7);
  faults.recreated = await recreateRawTopic(broker.brokers, topics.raw('image-labels'), `${prefix}freshet-ingest`, t0);
  await feedPart(0.7, 1);
  await killer;
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
  await prober.stop();
  if (samplerError !== null) throw samplerError;
  const final = await takeSample();
  const trainerHealth = await healthz(byName('trainer').port);
  const trainerMetrics = await scrape(byName('trainer').port);
  const ingestMetrics = await scrape(byName('ingest').port);
  const publisherMetrics = await scrape(byName('publisher').port);
  const health = Object.fromEntries(
    Object.entries(prober.ms).map(([n, xs]) => [n, { probes: xs.length, p50Ms: quantile(xs, 0.5), p99Ms: quantile(xs, 0.99), maxMs: Math.max(...xs) }]),
  );
  const firstKillAt = killLog.length > 0 ? Math.min(...killLog.map((k) => k.atSeconds)) : 90;
  const names = services.map((s) => s.name);
  const heap = heapReport(samples, names, firstKillAt, feedEnded, heapTolerance);
  const peakRss = Object.fromEntries(names.map((n) => [n, Math.max(...samples.map((s) => s.rssMb[n] ?? 0))]));
  const deadLetters = await deadLetterKeys(broker.brokers, topics.deadLetters, async (v) => (await new Codecs(registry, topics).deadLetters().decode(v)).value);
  const refused = trainerMetrics.get('freshet_vocabulary_refused_total') ?? 0;
  // records on the training topics beyond the events fed: copies ingest forwarded again after its kill
  let trainingRecords = 0;
  for (const t of topics.streams.map((st) => topics.train(st))) trainingRecords += (await admin.endOffsets(t)).reduce((n, o) => n + o.offset, 0);
  const checks = {
    memoryUnderBound: names.every((n) => peakRss[n] < memoryBoundMb),
    heapGrowthWithinTolerance: names.every((n) => heap[n].withinTolerance),
    lagReturnedToZero: drainedAt !== null,
    // each poison record dead-lettered (perhaps twice: ingest is killed once), nothing else
    onlyPoisonDeadLettered: deadLetters.distinct === faults.poisonSent && deadLetters.notPoison.length === 0,
    // a lost broker: every service unready within 30 s, and ready within 30 s of its return
    brokerRestartSeen: faults.brokerRestart === null || (faults.brokerRestart.allUnreadySeconds ?? Infinity) <= 30,
    brokerRestartRecovered: faults.brokerRestart === null || (faults.brokerRestart.allReadySeconds ?? Infinity) <= 30,
    capsEngaged: refused > 0,
    // every event fed reached the surviving model once: none lost, none applied twice (replays skipped)
    exactlyOnceInModel: trainerHealth.modelEvents === total,
    healthP99Under100ms: Object.values(health).every((h) => h.p99Ms <= 100),
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
    faults,
    logRestarts: { ingest: ingestMetrics.get('freshet_ingest_log_restarts_total') ?? 0, trainer: trainerHealth.logRestarts },
    compression: { feeders: codecs, services: { ingest: 'zstd', trainer: 'lz4', publisher: 'snappy' } },
    kills: killLog,
    health,
    slowProbes: prober.slow,
    trainingRecords,
    forwardedTwice: trainingRecords - total,
    replaysSkippedByLastTrainer: trainerHealth.replaysSkipped,
    snapshots: publisherMetrics.get('freshet_snapshots_published_total') ?? 0,
    checks,
    passed: Object.values(checks).every(Boolean),
    samples,
    environment: runEnvironment(),
  };
  emitResult(result, args.get('out'));
  await admin.close();
  if (!result.passed) process.exitCode = 1;
} finally {
  for (const s of services) s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2000));
  await broker.stop();
}
process.exit(process.exitCode ?? 0);
