/**
 * What eviction at the image cap costs in quality (issue 17): the streaming trainer (no Kafka:
 * events already on in-memory training topics, normalised as ingest would) fed a stream that
 * never repeats an image id, once with --image-cap and once with room for every image, and the
 * held-out P@5, Recall@20, NDCG@20 and MAP of the most recent images compared (full ranking over
 * every label the image did not train on). Each of the last --recent images of the stream keeps
 * one of its labels back (seeded); evicted images are the oldest, so the recent ones are held in
 * both runs, and what eviction changes is what the labels learned from the replay memory and the
 * images that are gone.
 *
 *   npm run bench:eviction -- [--images 1000000] [--labels 20000] [--cap 200000] [--recent 5000] [--seeds 1,2,3] [--out FILE]
 *
 * The same synthetic stream as bench:scale (labels Zipf-distributed, seed 17). Trainer defaults,
 * dim 64, two SGD threads, no checkpoints.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LocalSchemaRegistry } from '@freshet/avro';
import { Rng, fullRanking } from '@freshet/core';
import { generateSynthetic } from '@freshet/datasets';
import { SCORE_BLOCK } from '@freshet/kernels';
import { Codecs, ImageLabelsLearner, TopicCatalogue, Trainer, imageLabelsStream, normaliseImageLabel, trainerSettings } from '@freshet/pipeline';
import { createLogger, createRegistry } from '@freshet/runtime';
import { MemoryTransport, type OutgoingRecord } from '@freshet/transport';
import { numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { median } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2));
const imageCount = numberArg(args, 'images', 1_000_000);
const labelCount = numberArg(args, 'labels', 20_000);
const cap = numberArg(args, 'cap', 200_000);
const recent = numberArg(args, 'recent', 5000);
const seeds = (args.get('seeds') ?? '1,2,3').split(',').map(Number);
const dim = 64;
const quiet = createLogger('bench', { level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const log = (line: string): void => void process.stderr.write(`[eviction] ${line}\n`);

const images = generateSynthetic({ images: imageCount, labels: labelCount, rank: 32, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: 17 }).map(
  (img, i) => ({ id: `scale-${i}`, labels: img.labels }),
);

interface Run {
  seed: number;
  imageCap: number;
  p5: number;
  recall20: number;
  ndcg20: number;
  map: number;
  evaluated: number;
  /** recent images without a row at the end (0 expected: the oldest are evicted) */
  recentMissing: number;
  imagesEvicted: number;
  refused: number;
  trainSeconds: number;
}

async function run(seed: number, imageCap: number): Promise<Run> {
  const rng = new Rng(seed);
  const transport = new MemoryTransport({ partitions: 4 });
  const topics = new TopicCatalogue('eviction.');
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  const codec = new Codecs(registry, topics).train(imageLabelsStream);
  const heldOut = new Map<string, { trained: string[]; truth: string }>();
  const records: OutgoingRecord[] = [];
  const t0 = 1_700_000_000_000;
  for (const [i, img] of images.entries()) {
    let labels = img.labels;
    if (i >= images.length - recent && labels.length >= 2) {
      const k = rng.nextInt(labels.length);
      heldOut.set(img.id, { trained: labels.filter((_, j) => j !== k), truth: labels[k] });
      labels = labels.filter((_, j) => j !== k);
    }
    // event time in stream order: least recently seen = oldest in the stream
    const n = normaliseImageLabel({ imageId: img.id, labels, eventTime: t0 + i, weight: null, source: null });
    if (n.ok) records.push({ key: Buffer.from(n.value.imageId), value: await codec.encode(n.value) });
  }
  const producer = await transport.producer();
  for (let at = 0; at < records.length; at += 10_000) await producer.send(topics.train(imageLabelsStream), records.slice(at, at + 10_000));
  const trainer = new Trainer({
    ...trainerSettings.with({ checkpointDir: mkdtempSync(join(tmpdir(), 'bench-eviction-')), checkpointEveryMs: 1_000_000_000, threads: 2, seed }),
    streams: { 'image-labels': { dim, imageCap, labelCap: labelCount + 1000, replayCapacity: 2_000_000 } },
    transport,
    registry,
    topics,
    groupId: 'eviction',
    logger: quiet,
    metrics: createRegistry('trainer'),
  });
  const start = performance.now();
  await trainer.start();
  while (trainer.applied < records.length) await new Promise((r) => setTimeout(r, 200));
  const trainSeconds = (performance.now() - start) / 1000;
  const learner = trainer.learnerOf('image-labels', ImageLabelsLearner);
  const m = learner.model;
  const cases = [];
  let recentMissing = 0;
  for (const [id, h] of heldOut) {
    const image = m.images.idOf(id);
    const truth = m.labels.idOf(h.truth);
    if (image < 0) recentMissing++;
    if (image < 0 || truth < 0) continue;
    cases.push({ image, trained: Int32Array.from(h.trained.map((l) => m.labels.idOf(l))), truth: Int32Array.of(truth) });
  }
  const r = fullRanking(
    {
      dim: m.dim,
      labelCount: m.labels.size,
      labelVectors: m.labelVectors.data,
      labelStride: m.width,
      labelBiases: Float32Array.from({ length: m.labels.size }, (_, l) => m.bias(l)),
      imageVector: (i) => m.imageVectors.data.subarray(i * m.width, i * m.width + m.dim),
      scorer: { block: SCORE_BLOCK, score: (ids, into) => into.set(learner.kernel.scoreLabels(ids)) },
    },
    cases,
  );
  const details = learner.details();
  await trainer.stop({ checkpoint: false });
  const out: Run = {
    seed,
    imageCap,
    p5: r.p5,
    recall20: r.recall20,
    ndcg20: r.ndcg20,
    map: r.map,
    evaluated: cases.length,
    recentMissing,
    imagesEvicted: details.imagesEvicted ?? 0,
    refused: m.images.refusedCount,
    trainSeconds,
  };
  log(JSON.stringify(out));
  return out;
}

const runs: Run[] = [];
for (const seed of seeds) {
  runs.push(await run(seed, cap));
  runs.push(await run(seed, imageCount));
}
const of = (c: number, key: 'p5' | 'recall20'): number[] => runs.filter((r) => r.imageCap === c).map((r) => r[key]);
const stat = (xs: number[]): { median: number; min: number; max: number } => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const ratios = seeds.map((s) => {
  const capped = runs.find((r) => r.seed === s && r.imageCap === cap);
  const whole = runs.find((r) => r.seed === s && r.imageCap === imageCount);
  return (capped?.p5 ?? NaN) / (whole?.p5 ?? NaN);
});
emitResult(
  {
    benchmark: 'eviction-quality',
    environment: runEnvironment(),
    protocol: { images: imageCount, labels: labelCount, imageCap: cap, recent, seeds, dim, threads: 2 },
    summary: {
      p5Capped: stat(of(cap, 'p5')),
      p5Uncapped: stat(of(imageCount, 'p5')),
      recall20Capped: stat(of(cap, 'recall20')),
      recall20Uncapped: stat(of(imageCount, 'recall20')),
      /** per seed, the capped run's held-out P@5 of recent images over the uncapped run's (goal >= 0.9) */
      p5RecentVsUncapped: stat(ratios),
    },
    runs,
  },
  args.get('out'),
);
process.exit(0);
