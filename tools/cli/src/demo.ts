import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LocalSchemaRegistry } from '@freshet/avro';
import { Rng, evaluateAnnotation, leaveOneOut, resolvePairs } from '@freshet/core';
import { loadCorpusSentences, readImageLabelFile, dataDir } from '@freshet/datasets';
import {
  ImageLabelsLearner,
  IngestProcessor,
  PublisherProcessor,
  ServeProcessor,
  SnapshotReader,
  TopicCatalogue,
  Trainer,
  feedEvents,
  imageLabelSource,
  publisherSettings,
  serveRoutes,
  serveSettings,
  textWindowSource,
  toWindows,
  trainerSettings,
} from '@freshet/pipeline';
import { createLogger, createRegistry, startHealthServer, waitFor, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';

export const demoOptions: OptionSpec[] = [
  { name: 'rate', kind: 'number', min: 0, default: 0, help: 'events per second fed into the pipeline (0: as fast as it takes them)' },
  { name: 'corpus', kind: 'list', default: 'sotu,moby-dick,wordnet-glosses', help: 'text corpora fed as text windows' },
  {
    name: 'zero-shot-label',
    kind: 'string',
    default: 'sunset',
    help: 'a label kept out of every image event: the publisher ranks it for images from its word alone (zero-shot)',
  },
  { name: 'seed', kind: 'number', integer: true, default: 1, help: 'random seed' },
  { name: 'http-port', kind: 'number', integer: true, min: 0, max: 65_535, default: 9464, help: 'port of /metrics, /healthz, /readyz (0: any free port)' },
  { name: 'publish-every-ms', kind: 'number', integer: true, min: 100, default: 5000, help: 'snapshot cadence' },
];

const say = (line = ''): void => {
  process.stdout.write(line + '\n');
};

/**
 * The embedded default: ingest, trainer, publisher and serve in one process on in-memory topics,
 * fed with MIRFLICKR-25k image-label events and the @stdlib texts, with /metrics and serve's query
 * endpoints on one port, and a snapshot reader and an HTTP query answering at the end. The last
 * line is one JSON object.
 */
export async function demo(v: OptionValues): Promise<Record<string, unknown>> {
  const seed = Number(v.get('seed'));
  const quiet = createLogger('demo', { level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const transport = new MemoryTransport({ partitions: 4 });
  const topics = new TopicCatalogue();
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  // one registry: the three services' metric names do not overlap
  const shared = createRegistry('freshet-demo');
  const metrics = { ingest: shared, trainer: shared, publisher: shared };
  // freshet serve's query endpoints on the same port, kept fresh from the latest-vector topic
  const serve = new ServeProcessor({
    ...serveSettings.with({}),
    indexMetrics: ['cos'],
    transport,
    registry,
    topics,
    groupId: 'serve',
    logger: quiet,
    metrics: shared,
  });
  const http = await startHealthServer({
    host: '127.0.0.1',
    port: Number(v.get('http-port')),
    registry: shared,
    live: () => true,
    ready: () => true,
    routes: serveRoutes(serve, 100),
  });
  const file = join(dataDir(), 'mirflickr25k', 'all.tsv');
  const all = readImageLabelFile(file);
  // one label never reaches an image event: only text can teach it (zero-shot)
  const unseen = String(v.get('zero-shot-label'));
  const catalogue = [...new Set(all.flatMap((i) => i.labels))];
  if (!catalogue.includes(unseen)) throw new Error(`--zero-shot-label ${unseen} is not a label of ${file}`);
  const carriers = all.filter((i) => i.labels.includes(unseen));
  const split = leaveOneOut(
    all.map((i) => ({ id: i.id, labels: i.labels.filter((l) => l !== unseen) })).filter((i) => i.labels.length > 0),
    new Rng(seed),
  );
  const corpora = (v.get('corpus') as string[]) ?? [];
  const windows = corpora.flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24));
  say('freshet demo: the streaming pipeline in one process (in-memory topics)');
  say(
    `  feeding ${split.train.length} image-label events (${file}, one label per image held out, ${unseen} never) and ${windows.length} text windows (${corpora.join(' + ')})`,
  );
  say(`  metrics: ${http.url}/metrics   queries: ${http.url}/neighbours?kind=WORD&id=whale`);
  const ingest = new IngestProcessor({ transport, registry, topics, groupId: 'ingest', logger: quiet, metrics: metrics.ingest });
  const trainer = new Trainer({
    ...trainerSettings.with({ checkpointDir: mkdtempSync(join(tmpdir(), 'freshet-demo-')), checkpointEveryMs: 3000, seed }),
    // caps sized for the demo's data (the service's reserve far more address space)
    streams: { 'image-labels': { imageCap: 100_000, labelCap: 10_000, replayCapacity: 500_000 }, 'text-windows': { vocabCap: 200_000, floorLr: 0.01 } },
    transport,
    registry,
    topics,
    groupId: 'trainer',
    logger: quiet,
    metrics: metrics.trainer,
  });
  const images = trainer.learnerOf('image-labels', ImageLabelsLearner).model;
  const publisher = new PublisherProcessor({
    ...publisherSettings.with({
      publishEveryMs: Number(v.get('publish-every-ms')),
      publishEveryUpdates: 10_000_000,
      zeroShot: 'map',
      zeroShotLabels: catalogue.join(','),
    }),
    transport,
    registry,
    topics,
    groupId: 'publisher',
    logger: quiet,
    metrics: metrics.publisher,
  });
  const reader = new SnapshotReader(transport, registry, topics, 'demo-reader');
  await Promise.all([ingest.start(), trainer.start(), publisher.start(), reader.start(), serve.start()]);
  const total = split.train.length + windows.length;
  const t0 = Date.now();
  const curve: Array<[number, number, number]> = [];
  const heldOut = (): { p5: number; map: number } => {
    const m = evaluateAnnotation(images, resolvePairs(images, split.test), new Rng(seed));
    return { p5: m.p5, map: m.map };
  };
  say('');
  say('  seconds  events applied   held-out P@5   MAP');
  const report = (): void => {
    const seconds = (Date.now() - t0) / 1000;
    const { p5, map } = heldOut();
    curve.push([Number(seconds.toFixed(1)), Number(p5.toFixed(4)), Number(map.toFixed(4))]);
    say(`  ${seconds.toFixed(1).padStart(7)}  ${String(trainer.applied).padStart(8)}/${total}   ${p5.toFixed(3).padStart(12)}   ${map.toFixed(3)}`);
  };
  const feeding = feedEvents(transport, registry, topics, {
    sources: [imageLabelSource(split.train), textWindowSource(windows)],
    rate: Number(v.get('rate')),
    batch: 200,
  });
  let nextReport = Date.now() + 3000;
  await waitFor(
    () => {
      if (Date.now() >= nextReport) {
        report();
        nextReport = Date.now() + 3000;
      }
      return trainer.applied >= total;
    },
    { timeoutMs: 30 * 60_000, what: 'the trainer to apply every event', intervalMs: 100 },
  );
  await feeding;
  report();
  // a checkpoint publishes every changed row; the snapshot holds them once the publisher has read them all
  await trainer.checkpoint();
  const admin = await transport.admin();
  const ends = await admin.endOffsets(topics.modelUpdates);
  await admin.close();
  await waitFor(() => ends.every((e) => (publisher.consumed.get(`${e.topic}#${e.partition}`) ?? 0) >= e.offset), {
    timeoutMs: 60_000,
    what: 'the publisher to read every model update',
  });
  await publisher.publish();
  await waitFor(() => (reader.current?.version ?? 0) >= publisher.lastVersion, { timeoutMs: 30_000, what: 'the reader to assemble the last snapshot' });
  const snap = reader.current;
  say('');
  say(
    `  snapshot version ${snap?.version ?? 'none'}: ${[...(snap?.tables ?? new Map()).entries()].map(([k, t]) => `${t.vocab.size} ${k.toLowerCase()}s`).join(', ')}`,
  );
  const neighbours: Record<string, string[]> = {};
  for (const w of ['whale', 'ship', 'war', 'freedom', 'money']) {
    neighbours[w] = reader.nearest('WORD', w, 'WORD', 6).map((n) => n.id);
    say(`  ${w.padEnd(8)} -> ${neighbours[w].join(', ')}`);
  }
  // the same question over HTTP, to freshet serve (the query service a deployment runs beside the pipeline)
  // serve has applied the latest-vector topic to its end: everything the last version wrote
  const latestAdmin = await transport.admin();
  const latestEnds = await latestAdmin.endOffsets(topics.embeddingsLatest);
  await latestAdmin.close();
  await waitFor(() => latestEnds.every((e) => (serve.consumed.get(`${e.topic}#${e.partition}`) ?? 0) >= e.offset), {
    timeoutMs: 30_000,
    what: 'serve to apply the last snapshot',
  });
  const url = `${http.url}/neighbours?kind=WORD&id=whale&k=6`;
  const answer = await fetch(url);
  const served = (await answer.json()) as { results?: Array<{ id: string }>; version: number; ageSeconds: number; error?: string };
  if (served.results === undefined) throw new Error(`the query service answered ${answer.status}: ${served.error ?? JSON.stringify(served)}`);
  const servedWhale = served.results.map((r) => r.id);
  say(`  curl '${url}'`);
  say(`           -> ${servedWhale.join(', ')}   (version ${served.version}, ${served.ageSeconds.toFixed(1)} s old)`);
  const topLabels: Record<string, { labels: string[]; heldOut: string }> = {};
  for (const t of split.test.slice(0, 4)) {
    const labels = reader.nearest('IMAGE', t.id, 'LABEL', 20).map((n) => n.id);
    const known = new Set(split.train.find((i) => i.id === t.id)?.labels ?? []);
    const fresh = labels.filter((l) => !known.has(l)).slice(0, 5);
    topLabels[t.id] = { labels: fresh, heldOut: t.label };
    say(`  image ${t.id.padEnd(6)} top new labels: ${fresh.join(', ')}   (held out: ${t.label})`);
  }
  const zeroShot = zeroShotReport(reader, unseen, carriers, split.train.length);
  await Promise.all([ingest.stop(), trainer.stop(), publisher.stop(), reader.stop(), serve.stop()]);
  await http.close();
  say('');
  return {
    demo: 'streaming (embedded, in-memory topics)',
    events: total,
    seconds: Number(((Date.now() - t0) / 1000).toFixed(1)),
    heldOutP5OverTime: curve.map(([s, p5]) => [s, p5]),
    finalP5: curve[curve.length - 1]?.[1] ?? null,
    finalMap: curve[curve.length - 1]?.[2] ?? null,
    snapshotVersion: snap?.version ?? null,
    neighbours,
    topLabels,
    served: { url, whale: servedWhale, sameAsSnapshot: servedWhale.join() === neighbours.whale.join() },
    zeroShot,
  };
}

/**
 * Where the label no image event carried ranks for the images that truly have it (they trained
 * on their other labels), against the rank a random ordering gives on average.
 */
function zeroShotReport(reader: SnapshotReader, label: string, carriers: ReadonlyArray<{ id: string }>, trained: number) {
  const labels = reader.current?.tables.get('LABEL');
  const total = labels?.vocab.size ?? 0;
  const ranks: number[] = [];
  for (const c of carriers) {
    const ranked = reader.nearest('IMAGE', c.id, 'LABEL', total);
    const r = ranked.findIndex((x) => x.id === label);
    if (r >= 0) ranks.push(r + 1);
  }
  ranks.sort((a, b) => a - b);
  const auc = retrievalAuc(reader, label, new Set(carriers.map((c) => c.id)));
  const medianRank = ranks.length > 0 ? ranks[Math.floor(ranks.length / 2)] : null;
  const inTop5 = ranks.filter((r) => r <= 5).length;
  const marked = labels?.zeroShot.has(label) ?? false;
  say('');
  if (!marked || medianRank === null) say(`  zero-shot: ${label} is not in the snapshot (its word has no vector yet)`);
  else {
    say(`  zero-shot: ${label} (no image event carried it; its vector comes from the word's) for the ${ranks.length} images that have it:`);
    say(`           median rank ${medianRank} of ${total} labels (random: ${((total + 1) / 2).toFixed(1)}), in the top 5 for ${inTop5}`);
    say(`           images ranked by it: AUC ${auc.toFixed(3)} (images that have it above those that do not; random: 0.5)`);
  }
  return { label, marked, images: ranks.length, of: trained, labels: total, medianRank, randomMedianRank: (total + 1) / 2, inTop5, retrievalAuc: auc };
}

/** The chance that an image having `label` scores it above an image that has not (every image of the snapshot). */
function retrievalAuc(reader: SnapshotReader, label: string, carriers: ReadonlySet<string>): number {
  const images = reader.current?.tables.get('IMAGE');
  const labels = reader.current?.tables.get('LABEL');
  const row = labels?.vocab.idOf(label) ?? -1;
  if (images === undefined || labels === undefined || row < 0) return Number.NaN;
  const v = labels.vectors.row(row);
  const scored = images.vocab.allNames().map((id, i) => {
    const u = images.vectors.row(i);
    let s = 0;
    for (let d = 0; d < u.length; d++) s += u[d] * v[d];
    return { s, carrier: carriers.has(id) };
  });
  scored.sort((a, b) => a.s - b.s);
  // Mann-Whitney: the ranks of the carriers among all scores
  let rankSum = 0;
  let positives = 0;
  scored.forEach((x, i) => {
    if (x.carrier) {
      rankSum += i + 1;
      positives++;
    }
  });
  const negatives = scored.length - positives;
  return positives === 0 || negatives === 0 ? Number.NaN : (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
