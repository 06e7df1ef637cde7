import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import type { SchemaRegistry } from '@freshet/avro';
import type { LabeledImage } from '@freshet/core';
import { feedEvents, imageLabelSource, normaliseImageLabel, normaliseTextWindow, textWindowSource, TopicCatalogue } from '@freshet/pipeline';
import { KafkaTransport, type Transport } from '@freshet/transport';
import { freePort, waitFor } from '@freshet/runtime';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export { freePort };

export interface RunningService {
  name: string;
  child: ChildProcess;
  port: number;
  log: string[];
  /** the environment it was started with (broker, topic prefix) */
  env: Record<string, string>;
}

/** Starts a service as its own process (the compiled entry point), logs kept for failures. */
export async function startService(
  name: 'ingest' | 'trainer' | 'publisher' | 'serve',
  env: Record<string, string>,
  args: string[] = [],
): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js'), ...args], {
    env: { ...process.env, ...env, FRESHET_HTTP_PORT: String(port), FRESHET_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const ready = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${log.join('')}`);
    try {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    } catch {
      return false; // not listening yet
    }
  };
  try {
    await waitFor(ready, { timeoutMs: 60_000, what: `${name} to be ready`, intervalMs: 200 });
  } catch (err) {
    throw new Error(`${(err as Error).message}:\n${log.join('').slice(-3000)}`);
  }
  return { name, child, port, log, env };
}

export async function stopService(s: RunningService, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  // a process already gone: exited with a code, or ended by a signal (then exitCode stays null)
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill(signal);
  return exited;
}

/** The service's /healthz details (trainer: what the model holds; ingest: records handled). */
/** A metric's value in a service's exposition, summed over the series whose labels include `match` (all by default). */
export async function metricValue(s: RunningService, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) if ((m[1] ?? '').includes(match)) sum += Number(m[2]);
  return sum;
}

export async function health<T = Record<string, unknown>>(s: RunningService): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${s.port}/healthz`)).json()) as T;
}

export interface TrainerHealth {
  role: 'active' | 'standby' | 'restoring';
  applied: number;
  images: number;
  labelPairs: number;
  tokens: number;
  /** next offset to apply per `topic#partition` */
  consumed: Record<string, number>;
  /** training records dropped as replays of events already applied */
  replaysSkipped: number;
  /** raw partitions whose log started over (a new epoch) */
  logRestarts: number;
}

export interface IngestHealth {
  handled: number;
  partitions: number;
}

/** What the trainer's model must hold if every event is applied exactly once: label pairs and tokens after normalisation. */
export function expectedCounts(
  images: Array<{ id: string; labels: string[] }>,
  windows: Array<{ documentId: string; tokens: string[] }>,
): { labelPairs: number; tokens: number } {
  let labelPairs = 0;
  for (const img of images) {
    const n = normaliseImageLabel({ imageId: img.id, labels: img.labels, eventTime: 1, weight: null, source: null });
    if (n.ok) labelPairs += n.value.labels.length;
  }
  let tokens = 0;
  for (const w of windows) {
    const n = normaliseTextWindow({ documentId: w.documentId, sequence: 0, tokens: w.tokens, eventTime: 1 });
    if (n.ok) tokens += n.value.tokens.length;
  }
  return { labelPairs, tokens };
}

/** The environment every service of one test deployment shares: brokers, topic prefix, partitions. */
export function deploymentEnv(brokers: string, prefix: string, partitions = 2): Record<string, string> {
  return { KAFKA_BROKERS: brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: String(partitions) };
}

/** A small, fast trainer for the tests: 16-dimensional vectors, a checkpoint every second. */
export function testTrainerEnv(checkpointDir: string): Record<string, string> {
  return { FRESHET_CHECKPOINT_DIR: checkpointDir, FRESHET_CHECKPOINT_EVERY_MS: '1000', FRESHET_IMAGE_DIM: '16', FRESHET_WORD_DIM: '16' };
}

/** Whether a publisher reports itself the active instance (freshet_publisher_active 1). */
export async function publisherActive(s: RunningService): Promise<boolean> {
  return /^freshet_publisher_active\{[^}]*\} 1$/m.test(await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text());
}

/**
 * Waits until nothing more can reach the trainer: ingest has committed (so forwarded) every raw
 * record there is, and the trainer's next offset on every training partition is the log's end.
 * Read in that order, so the training topics' ends are final when they are compared. One admin
 * connection for the whole wait.
 */
export async function everythingApplied(trainer: RunningService, what: string, options: { ingest?: boolean } = {}): Promise<void> {
  const prefix = trainer.env.FRESHET_TOPIC_PREFIX ?? '';
  const topics = new TopicCatalogue(prefix);
  const transport = new KafkaTransport({ brokers: (trainer.env.KAFKA_BROKERS ?? '').split(','), clientId: 'test-settle' });
  const admin = await transport.admin();
  const applied = async (): Promise<boolean> => {
    // without an ingest in the deployment (stopped, its group reset) the training topics are already whole
    for (const raw of options.ingest === false ? [] : topics.streams.map((st) => topics.raw(st))) {
      const committed = new Map((await admin.committedOffsets(`${prefix}freshet-ingest`, raw)).map((c) => [c.partition, c.offset]));
      for (const end of await admin.endOffsets(raw)) if (end.offset > 0 && (committed.get(end.partition) ?? -1) < end.offset) return false;
    }
    const consumed = (await health<TrainerHealth>(trainer)).consumed;
    for (const t of topics.streams.map((st) => topics.train(st))) {
      for (const end of await admin.endOffsets(t)) if (end.offset > 0 && (consumed[`${t}#${end.partition}`] ?? 0) < end.offset) return false;
    }
    return true;
  };
  try {
    await waitFor(applied, { timeoutMs: 120_000, what: `${what}: every record forwarded and applied` });
  } finally {
    await admin.close();
  }
}

/**
 * Waits until the trainer's model holds at least the expected label pairs and tokens and nothing
 * more can reach it (every raw record forwarded, every training record applied), then checks it
 * holds exactly them and every image: each event applied once. Returns the final /healthz.
 */
export async function expectEveryEventOnce(
  trainer: RunningService,
  expected: { images: number; labelPairs: number; tokens: number },
  what: string,
  options: { ingest?: boolean } = {},
): Promise<TrainerHealth> {
  let last: TrainerHealth | null = null;
  try {
    await waitFor(
      async () => {
        last = await health<TrainerHealth>(trainer);
        return last.labelPairs >= expected.labelPairs && last.tokens >= expected.tokens;
      },
      { timeoutMs: 180_000, what: what },
    );
  } catch (err) {
    // what the trainer held and said: the failure explains itself
    throw new Error(
      `${(err as Error).message}; expected ${JSON.stringify(expected)}, last /healthz ${JSON.stringify(last)}; trainer log:\n${trainer.log.join('').slice(-4000)}`,
    );
  }
  await everythingApplied(trainer, what, options);
  const h = await health<TrainerHealth>(trainer);
  expect(h.images).toBe(expected.images);
  expect(h.labelPairs).toBe(expected.labelPairs);
  expect(h.tokens).toBe(expected.tokens);
  return h;
}

/** Feeds labelled images and text windows as raw events of their two streams (the feeder's sources). */
export function feedData(
  transport: Transport,
  registry: SchemaRegistry,
  topics: TopicCatalogue,
  data: { images?: readonly LabeledImage[]; windows?: ReadonlyArray<{ documentId: string; tokens: string[] }>; rate: number; batch?: number },
): ReturnType<typeof feedEvents> {
  const sources = [imageLabelSource(data.images ?? []), textWindowSource(data.windows ?? [])].filter((s) => s.count > 0);
  return feedEvents(transport, registry, topics, { sources, rate: data.rate, ...(data.batch !== undefined ? { batch: data.batch } : {}) });
}
