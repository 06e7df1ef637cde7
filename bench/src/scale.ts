/**
 * The pipeline at production scale: ingest, trainer, publisher and serve as processes on a local
 * broker, fed a synthetic stream that never repeats an image id (--images, 1,000,000 by default,
 * labels Zipf-distributed over --labels, 20,000), text windows from the corpora cycled with a
 * growing share of new words (a vocabulary past 100,000), paced at --rate, with a SIGKILL of each
 * service once (ingest at 30% of the feed, the trainer at 50%, the publisher at 70%).
 *
 * Reports, sampled every 10 s and at 100k images against the end: each service's resident
 * memory against the model's bytes (the trainer's last full checkpoint), checkpoint duration
 * (the mean over the two minutes from 100k images and over the last two minutes: full
 * checkpoints and increments as they come) and bytes,
 * snapshot (version) duration and bytes, whole versions and deltas, the trainer's restore time
 * after its kill, freshness (event time to the snapshot manifest that covers it) p50/p99, and the
 * age of the newest event a reader sees sampled every 10 s (kills included), a delta version's
 * bytes against the bytes of the rows it carries, each service's JS heap and off-heap buffers at
 * its peak resident memory, events
 * per second, evictions and refusals at the image cap, and exactly-once counts (the model's
 * lifetime event count against the events fed).
 *
 *   npm run bench:scale -- [--images 1000000] [--labels 20000] [--rate 2500] [--image-cap 200000] [--out FILE]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSchemaRegistry, type SnapshotManifest } from '@freshet/avro';
import { generateSynthetic, loadCorpusSentences } from '@freshet/datasets';
import { Codecs, TopicCatalogue, feedEvents, imageLabelSource, textWindowSource, toWindows } from '@freshet/pipeline';
import { KafkaTransport } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { benchBroker, groupLag, healthz, scrape, startService, type BenchService } from './lib/services.js';
import { quantile } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2));
const imageCount = numberArg(args, 'images', 1_000_000);
const labelCount = numberArg(args, 'labels', 20_000);
const rate = numberArg(args, 'rate', 2500);
const imageCap = numberArg(args, 'image-cap', 200_000);
const windowShare = numberArg(args, 'window-share', 0.3);
/** seconds after each kill left out of the steady-state freshness */
const KILL_WINDOW = 60;

// the stream: every image new, labels Zipf over labelCount; text windows cycled, each cycle after
// the first renaming a fifth of the tokens to new words (the vocabulary keeps growing)
const images = generateSynthetic({ images: imageCount, labels: labelCount, rank: 32, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: 17 }).map(
  (img, i) => ({ id: `scale-${i}`, labels: img.labels }),
);
const base = ['sotu', 'moby-dick'].flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24));
const windowCount = Math.round((imageCount * windowShare) / (1 - windowShare));
const windows = Array.from({ length: windowCount }, (_, i) => {
  const w = base[i % base.length];
  const cycle = Math.floor(i / base.length);
  return { documentId: `${w.documentId}-${cycle}`, tokens: cycle === 0 ? w.tokens : w.tokens.map((t, j) => (j % 5 === 0 ? `${t}${cycle}` : t)) };
});
const total = images.length + windows.length;

const broker = await benchBroker();
const services: BenchService[] = [];
try {
  const prefix = `scale-${Date.now()}.`;
  const topics = new TopicCatalogue(prefix);
  const env = { KAFKA_BROKERS: broker.brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '4' };
  const serviceEnv: Record<string, Record<string, string>> = {
    ingest: env,
    trainer: {
      ...env,
      FRESHET_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'scale-ck-')),
      FRESHET_CHECKPOINT_EVERY_MS: '10000',
      FRESHET_IMAGE_DIM: '64',
      FRESHET_WORD_DIM: '64',
      FRESHET_IMAGE_CAP: String(imageCap),
      FRESHET_LABEL_CAP: String(labelCount + 1000),
      FRESHET_VOCAB_CAP: '400000',
      FRESHET_REPLAY_CAPACITY: '2000000',
    },
    publisher: { ...env, FRESHET_PUBLISH_EVERY_MS: '1000' },
    serve: env,
  };
  const start = (name: string): Promise<BenchService> => startService(name, serviceEnv[name], ['--max-old-space-size=4096']);
  for (const name of ['ingest', 'trainer', 'publisher', 'serve']) services.push(await start(name));
  const byName = (name: string): BenchService => services.find((s) => s.name === name) as BenchService;
  const transport = new KafkaTransport({ brokers: broker.brokers.split(','), clientId: 'bench-scale' });
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  const manifests: Array<SnapshotManifest & { at: number }> = [];
  const manifestCodec = new Codecs(registry, topics).manifests();
  const chunkCodec = new Codecs(registry, topics).chunks();
  /** per version: its chunks' bytes on the topic, and the bytes of the rows they carry (ids x dim float32s) */
  const chunkBytes = new Map<number, { bytes: number; rowBytes: number }>();
  const reader = await transport.consumer({ groupId: `scale-reader-${prefix}`, topics: [topics.snapshots], fromBeginning: true });
  void reader.run(async (b) => {
    for (const r of b.records) {
      const key = r.key?.toString();
      if (key === 'manifest' || key === 'delta') manifests.push({ ...(await manifestCodec.decode(r.value)).value, at: Date.now() });
      else if (r.value !== null) {
        const chunk = (await chunkCodec.decode(r.value)).value;
        const v = chunkBytes.get(chunk.version) ?? { bytes: 0, rowBytes: 0 };
        v.bytes += r.value.length;
        v.rowBytes += chunk.ids.length * chunk.dim * 4;
        chunkBytes.set(chunk.version, v);
      }
    }
  });
  const admin = await transport.admin();
  const t0 = Date.now();
  let fed = 0;
  const samples: Array<Record<string, number>> = [];
  const exited: Array<{ service: string; port: number; code: number | null; atSeconds: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const row: Record<string, number> = { t: (Date.now() - t0) / 1000, fed };
      // what a reader sees now: how old the newest event in the newest complete version is
      const newest = manifests[manifests.length - 1];
      row.servedAgeSeconds = newest !== undefined && newest.eventTimeHighWatermark > 0 ? (Date.now() - newest.eventTimeHighWatermark) / 1000 : NaN;
      for (const s of services) {
        // a service that stopped without our kill: said in the result (its log with FRESHET_BENCH_LOG_DIR)
        if (!s.child.killed && s.child.exitCode !== null && !exited.some((e) => e.port === s.port))
          exited.push({ service: s.name, port: s.port, code: s.child.exitCode, atSeconds: (Date.now() - t0) / 1000 });
        if (s.child.killed || s.child.exitCode !== null) continue;
        const m = await scrape(s.port).catch(() => new Map<string, number>());
        row[`${s.name}RssMb`] = (m.get('process_resident_memory_bytes') ?? NaN) / 2 ** 20;
        // where the resident memory is: the JS heap, buffers outside it (ArrayBuffers, Buffers); the rest is WebAssembly memory and code
        row[`${s.name}HeapMb`] = (m.get('nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20;
        row[`${s.name}ExternalMb`] = (m.get('nodejs_external_memory_bytes') ?? NaN) / 2 ** 20;
        // where freshness goes: each service's backlog, and how far the trainer's model is behind now
        row[`${s.name}LagRecords`] = m.get('freshet_consumer_lag_records') ?? NaN;
        if (s.name === 'trainer') {
          row.checkpointBytes = m.get('freshet_checkpoint_size_bytes') ?? NaN;
          row.checkpointFullBytes = m.get('freshet_checkpoint_full_size_bytes') ?? NaN;
          row.checkpointsFull = m.get('freshet_checkpoints_written_total{kind="full"}') ?? 0;
          row.checkpointIncrements = m.get('freshet_checkpoints_written_total{kind="increment"}') ?? 0;
          row.checkpointSecondsSum = m.get('freshet_checkpoint_duration_seconds_sum') ?? NaN;
          row.checkpoints = m.get('freshet_checkpoint_duration_seconds_count') ?? NaN;
          row.imagesEvicted = m.get('freshet_vocabulary_evicted_total') ?? 0;
          const watermark = m.get('freshet_trainer_event_time_high_watermark_seconds') ?? 0;
          row.trainerBehindSeconds = watermark > 0 ? Date.now() / 1000 - watermark : NaN;
          row.refused = m.get('freshet_vocabulary_refused_total') ?? 0;
        }
        if (s.name === 'publisher') {
          row.snapshotBytes = m.get('freshet_snapshot_size_bytes') ?? NaN;
          row.snapshotSecondsSum = m.get('freshet_snapshot_duration_seconds_sum') ?? NaN;
          row.snapshots = m.get('freshet_snapshot_duration_seconds_count') ?? NaN;
          row.deltas = m.get('freshet_snapshot_deltas_total') ?? 0;
        }
      }
      samples.push(row);
      process.stderr.write(`scale t=${row.t.toFixed(0)}s fed=${fed} ${JSON.stringify(row)}\n`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  })();
  // a SIGKILL of each service once, and its restart timed to ready
  const feedSeconds = total / rate;
  const kills: Array<{ service: string; atSeconds: number; readyAgainSeconds: number }> = [];
  const killer = (async () => {
    for (const [service, at] of [
      ['ingest', 0.3],
      ['trainer', 0.5],
      ['publisher', 0.7],
    ] as const) {
      const wait = t0 + at * feedSeconds * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const victim = byName(service);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await new Promise((r) => victim.child.once('exit', r));
      services[services.indexOf(victim)] = await start(service);
      kills.push({ service, atSeconds: (killedAt - t0) / 1000, readyAgainSeconds: (Date.now() - killedAt) / 1000 });
    }
  })();
  const result = await feedEvents(transport, registry, topics, {
    sources: [imageLabelSource(images, 'scale'), textWindowSource(windows)],
    rate,
    batch: 500,
    onProgress: (sent) => {
      fed = sent;
    },
  });
  await killer;
  const feedEnded = Date.now();
  // drained: every raw record forwarded and every training record checkpointed
  const raw = topics.streams.map((st) => topics.raw(st));
  const train = topics.streams.map((st) => topics.train(st));
  let drained: number | null = null;
  while (Date.now() - feedEnded < 600_000) {
    if ((await groupLag(admin, `${prefix}freshet-ingest`, raw)) === 0 && (await groupLag(admin, `${prefix}freshet-trainer`, train)) === 0) {
      drained = (Date.now() - feedEnded) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  sampling = false;
  await sampler;
  const trainer = await healthz(byName('trainer').port);
  await admin.close();
  await reader.close();

  // freshness: each manifest covers the events up to its watermark; per manifest, its arrival minus that watermark
  const freshness = manifests.filter((m) => m.eventTimeHighWatermark > 0).map((m) => (m.at - m.eventTimeHighWatermark) / 1000);
  // the same outside the minute after each kill: the steady state's tail (a killed consumer's
  // partitions wait for its session to time out, 10 s, before anyone reads them again)
  const afterKill = (at: number): boolean => kills.some((k) => at >= t0 + k.atSeconds * 1000 && at < t0 + (k.atSeconds + KILL_WINDOW) * 1000);
  const steadyFreshness = manifests.filter((m) => m.eventTimeHighWatermark > 0 && !afterKill(m.at)).map((m) => (m.at - m.eventTimeHighWatermark) / 1000);
  const feedSecondsTaken = (feedEnded - t0) / 1000;
  const during = (key: string, steady = false): number[] =>
    samples.filter((s) => s.t > 0 && s.t <= feedSecondsTaken && Number.isFinite(s[key]) && !(steady && afterKill(t0 + s.t * 1000))).map((s) => s[key]);
  const atFed = (n: number): Record<string, number> | undefined => samples.find((s) => s.fed >= n && Number.isFinite(s.checkpointBytes));
  const last = [...samples].reverse().find((s) => Number.isFinite(s.checkpointBytes)) ?? {};
  const early = atFed(Math.min(100_000, Math.floor(imageCount / 10))) ?? {};
  const perCheckpoint = (s: Record<string, number> | undefined): number => (s?.checkpointSecondsSum ?? NaN) / (s?.checkpoints ?? NaN);
  /** mean seconds per checkpoint between two samples of one trainer process (NaN across its restart) */
  const between = (a: Record<string, number> | undefined, b: Record<string, number> | undefined): number => {
    if (a === undefined || b === undefined || !(b.checkpoints > a.checkpoints)) return NaN;
    return (b.checkpointSecondsSum - a.checkpointSecondsSum) / (b.checkpoints - a.checkpoints);
  };
  const WINDOW = 120;
  const earlyWindowEnd = samples.find((s) => s.t >= (early.t ?? Infinity) + WINDOW && Number.isFinite(s.checkpoints));
  const lateWindowStart = [...samples].reverse().find((s) => s.t <= (last.t ?? 0) - WINDOW && Number.isFinite(s.checkpoints));
  const secondsEarly = between(early, earlyWindowEnd);
  const secondsLate = between(lateWindowStart, last);
  const modelBytes = last.checkpointFullBytes ?? NaN;
  const rss = Object.fromEntries(['ingest', 'trainer', 'publisher', 'serve'].map((n) => [n, Math.max(...samples.map((s) => s[`${n}RssMb`] ?? 0))]));
  const deltaManifests = manifests.filter((m) => m.base > 0);
  // a delta's bytes on the snapshot topic against the bytes of the changed rows it carries
  const deltaOverRows = deltaManifests
    .map((m) => chunkBytes.get(m.version))
    .filter((c): c is { bytes: number; rowBytes: number } => c !== undefined && c.rowBytes > 0)
    .map((c) => c.bytes / c.rowBytes);
  emitResult(
    {
      benchmark: 'scale',
      images: imageCount,
      labels: labelCount,
      windows: windowCount,
      events: total,
      imageCap,
      targetRate: rate,
      achievedFeedRate: result.sent / result.seconds,
      drainSeconds: drained,
      kills,
      exitedUnexpectedly: exited,
      restoreSeconds: kills.find((k) => k.service === 'trainer')?.readyAgainSeconds ?? null,
      exactlyOnce: { modelEvents: trainer.modelEvents, fed: result.sent, equal: trainer.modelEvents === result.sent },
      freshnessP50Seconds: quantile(freshness, 0.5),
      freshnessP99Seconds: quantile(freshness, 0.99),
      outsideKillWindows: {
        windowSeconds: KILL_WINDOW,
        versions: steadyFreshness.length,
        freshnessP50Seconds: quantile(steadyFreshness, 0.5),
        freshnessP99Seconds: quantile(steadyFreshness, 0.99),
        servedAgeP50Seconds: quantile(during('servedAgeSeconds', true), 0.5),
        servedAgeP99Seconds: quantile(during('servedAgeSeconds', true), 0.99),
      },
      // the 10 s samples while the feed ran: how far behind the trainer's model was, and each service's backlog
      // sampled every 10 s while the feed ran, whether or not a version was cut (kills included): the age of the newest event a reader sees
      servedAgeP50Seconds: quantile(during('servedAgeSeconds'), 0.5),
      servedAgeP99Seconds: quantile(during('servedAgeSeconds'), 0.99),
      freshnessBreakdown: {
        trainerBehindP50Seconds: quantile(during('trainerBehindSeconds'), 0.5),
        trainerBehindP99Seconds: quantile(during('trainerBehindSeconds'), 0.99),
        ingestLagP50Records: quantile(during('ingestLagRecords'), 0.5),
        trainerLagP50Records: quantile(during('trainerLagRecords'), 0.5),
        trainerLagMaxRecords: Math.max(...during('trainerLagRecords')),
        publisherLagP50Records: quantile(during('publisherLagRecords'), 0.5),
        publisherLagMaxRecords: Math.max(...during('publisherLagRecords')),
      },
      versions: { total: manifests.length, deltas: deltaManifests.length },
      // goal: within 2x outside whole versions (a delta carries ids beside the vectors, and deleted ids)
      deltaBytesOverChangedRowBytes: { p50: quantile(deltaOverRows, 0.5), max: Math.max(...deltaOverRows), versions: deltaOverRows.length },
      checkpoint: {
        fullBytesAt100k: early.checkpointFullBytes ?? null,
        fullBytesAtEnd: last.checkpointFullBytes ?? null,
        lastBytesAt100k: early.checkpointBytes ?? null,
        lastBytesAtEnd: last.checkpointBytes ?? null,
        windowSeconds: WINDOW,
        secondsAt100k: secondsEarly,
        secondsAtEnd: secondsLate,
      },
      checkpointGrowth: secondsLate / secondsEarly,
      snapshot: {
        lastBytes: last.snapshotBytes ?? null,
        meanSeconds: perCheckpoint({ checkpointSecondsSum: last.snapshotSecondsSum, checkpoints: last.snapshots }),
      },
      imagesEvicted: last.imagesEvicted ?? 0,
      refusedAfterWarmup: (last.refused ?? 0) - (early.refused ?? 0),
      peakRssMb: rss,
      // at each service's peak: its JS heap and its buffers outside the heap (MB)
      atPeakRss: Object.fromEntries(
        ['ingest', 'trainer', 'publisher', 'serve'].map((n) => {
          const at = samples.find((x) => x[`${n}RssMb`] === rss[n]) ?? {};
          return [n, { heapMb: at[`${n}HeapMb`] ?? null, externalMb: at[`${n}ExternalMb`] ?? null }];
        }),
      ),
      rssOverModelBytes: Object.fromEntries(Object.entries(rss).map(([n, mb]) => [n, (mb * 2 ** 20) / modelBytes])),
      trainer,
      samples,
      environment: runEnvironment(),
    },
    args.get('out'),
  );
} finally {
  for (const s of services) s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 3000));
  await broker.stop();
}
process.exit(0);
