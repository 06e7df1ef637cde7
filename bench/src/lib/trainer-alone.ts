import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { LocalSchemaRegistry } from '@freshet/avro';
import type { LabeledImage } from '@freshet/core';
import {
  Codecs,
  TopicCatalogue,
  Trainer,
  imageLabelsStream,
  normaliseImageLabel,
  normaliseTextWindow,
  textWindowsStream,
  trainerSettings,
  type TrainerOptions,
} from '@freshet/pipeline';
import { createLogger, createRegistry, startHealthServer } from '@freshet/runtime';
import { MemoryTransport, type OutgoingRecord } from '@freshet/transport';

export interface TrainerAloneResult {
  threads: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** tokens of the text windows per second */
  wordsPerSecond: number;
  /** (image, label) pairs of the image events per second */
  labelPairsPerSecond: number;
  /** image-label SGD steps per second: event pairs plus replay steps */
  imageStepsPerSecond: number;
  /** /healthz latency while the trainer works, probed every 50 ms (ms) */
  healthLatencyMs: { p50: number; p99: number; max: number; probes: number };
}

const quiet = createLogger('bench', { level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/**
 * The trainer alone: the events, normalised as ingest would, already on in-memory training
 * topics; a trainer with `threads` SGD threads (no checkpoints while it runs) applies them all.
 * Seconds from its start (group joined) to the last event applied; a health server answers
 * meanwhile and is probed every 50 ms from this process, which shows whether the main thread
 * stays free while SGD runs.
 */
export async function trainerAlone(
  images: readonly LabeledImage[],
  windows: ReadonlyArray<{ documentId: string; tokens: string[] }>,
  opts: { threads: number; seed: number; streams?: TrainerOptions['streams'] },
): Promise<TrainerAloneResult> {
  const transport = new MemoryTransport({ partitions: 4 });
  const topics = new TopicCatalogue('alone.');
  const registry = new LocalSchemaRegistry(topics.schemaTexts());
  const codecs = new Codecs(registry, topics);
  const imageCodec = codecs.train(imageLabelsStream);
  const textCodec = codecs.train(textWindowsStream);
  const producer = await transport.producer();
  let pairs = 0;
  let tokens = 0;
  const now = Date.now();
  const imageRecords: OutgoingRecord[] = [];
  for (const img of images) {
    const n = normaliseImageLabel({ imageId: img.id, labels: img.labels, eventTime: now, weight: null, source: null });
    if (!n.ok) continue;
    pairs += n.value.labels.length;
    imageRecords.push({ key: Buffer.from(n.value.imageId), value: await imageCodec.encode(n.value) });
  }
  const textRecords: OutgoingRecord[] = [];
  for (const [i, w] of windows.entries()) {
    const n = normaliseTextWindow({ documentId: w.documentId, sequence: i, tokens: w.tokens, eventTime: now });
    if (!n.ok) continue;
    tokens += n.value.tokens.length;
    textRecords.push({ key: Buffer.from(n.value.documentId), value: await textCodec.encode(n.value) });
  }
  if (imageRecords.length > 0) await producer.send(topics.train(imageLabelsStream), imageRecords);
  if (textRecords.length > 0) await producer.send(topics.train(textWindowsStream), textRecords);
  const events = imageRecords.length + textRecords.length;
  // no checkpoint while it runs: the trainer alone, SGD and bookkeeping
  const settings = trainerSettings.with({
    checkpointDir: mkdtempSync(join(tmpdir(), 'bench-alone-')),
    checkpointEveryMs: 1_000_000_000,
    threads: opts.threads,
    seed: opts.seed,
  });
  const metrics = createRegistry('trainer');
  const trainer = new Trainer({ ...settings, streams: opts.streams ?? {}, transport, registry, topics, groupId: 'alone', logger: quiet, metrics });
  const http = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics,
    live: () => trainer.isRunning,
    ready: () => trainer.isReady,
    details: () => trainer.details(),
  });
  await trainer.start();
  const t0 = performance.now();
  const latencies: number[] = [];
  while (trainer.applied < events) {
    const p0 = performance.now();
    await (await fetch(`${http.url}/healthz`)).text();
    latencies.push(performance.now() - p0);
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  await trainer.stop({ checkpoint: false });
  await http.close();
  const replay = imageLabelsStream.settings.with(opts.streams?.['image-labels'] ?? {}).replaySteps * imageRecords.length;
  return {
    threads: opts.threads,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    wordsPerSecond: tokens / seconds,
    labelPairsPerSecond: pairs / seconds,
    imageStepsPerSecond: (pairs + replay) / seconds,
    healthLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1), probes: latencies.length },
  };
}
