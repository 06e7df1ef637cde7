// Helpers shared by this package's tests (not part of its build: see tsconfig.json).
import { Writable } from 'node:stream';
import type { ImageLabelModel, SkipGramModel } from '@freshet/core';
import { ImageLabelsLearner } from './streams/image-labels/learner.js';
import { TextWindowsLearner } from './streams/text-windows/learner.js';
import type { MemoryTransport, Transport } from '@freshet/transport';
import { createLogger, createRegistry, type Logger } from '@freshet/runtime';
import { PublisherProcessor } from './publisher/publisher.js';
import { publisherSettings, type PublisherSettings } from './publisher/settings.js';
import type { SnapshotSink } from './sinks/sink.js';
import type { ProcessorWiring } from './wiring.js';
import { trainerSettings, type TrainerOptions, type TrainerSettings } from './trainer/settings.js';
import { Trainer } from './trainer/trainer.js';

/** A logger that writes nowhere, for tests whose log lines would only be noise. */
export function quietLogger(name: string): Logger {
  return createLogger(name, { destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

/** The image-label model a trainer holds. */
export function imagesOf(trainer: Trainer): ImageLabelModel {
  return trainer.learnerOf('image-labels', ImageLabelsLearner).model;
}

/** The skip-gram model a trainer holds. */
export function wordsOf(trainer: Trainer): SkipGramModel {
  return trainer.learnerOf('text-windows', TextWindowsLearner).model;
}

/**
 * A transport whose producers fail on the (n+1)-th snapshot chunk sent to `topic` (records keyed
 * `v<version>`), as a publisher dying between the chunks of a version would: the fault is the
 * test's, the publisher has no hook for it.
 */
export function failingAfter(transport: Transport, topic: string, chunks: number): Transport {
  let sent = 0;
  return {
    kind: transport.kind,
    consumer: (o) => transport.consumer(o),
    admin: () => transport.admin(),
    producer: async () => {
      const p = await transport.producer();
      return {
        close: () => p.close(),
        send: async (t, records) => {
          if (t === topic && records.some((r) => r.key?.toString().startsWith('v') === true)) {
            if (sent >= chunks) throw new Error(`injected failure after ${sent} chunks`);
            sent += records.length;
          }
          return p.send(t, records);
        },
      };
    },
  };
}

/** Whether a publisher has read every record of the topic there is now (in-memory transport). */
export function caughtUp(publisher: PublisherProcessor, transport: MemoryTransport, topic: string, partitions: number): boolean {
  for (let p = 0; p < partitions; p++) if ((publisher.consumed.get(`${topic}#${p}`) ?? 0) < transport.endOffset(topic, p)) return false;
  return true;
}

/**
 * A trainer on the test's transport that checkpoints only when asked (`checkpoint()`) and sends
 * rows only with its checkpoints, unless the overrides say otherwise.
 */
export function manualTrainer(
  wiring: Pick<ProcessorWiring, 'transport' | 'registry' | 'topics'>,
  overrides: Partial<TrainerSettings> & Pick<TrainerSettings, 'checkpointDir'>,
  streams: TrainerOptions['streams'],
): Trainer {
  return new Trainer({
    ...trainerSettings.with({ checkpointEveryMs: 1e15, updatesEveryMs: 0, ...overrides }),
    streams,
    ...wiring,
    groupId: 'trainer',
    logger: quietLogger('trainer'),
    metrics: createRegistry('trainer'),
  });
}

/** A publisher on the test's transport that cuts a version only when asked (`publish()`). */
export function manualPublisher(
  wiring: Pick<ProcessorWiring, 'transport' | 'registry' | 'topics'>,
  overrides: Partial<PublisherSettings> = {},
  sinks?: SnapshotSink[],
): PublisherProcessor {
  return new PublisherProcessor({
    ...publisherSettings.with({ publishEveryMs: 1e9, publishEveryUpdates: 1e9, ...overrides }),
    ...wiring,
    groupId: 'publisher',
    logger: quietLogger('publisher'),
    metrics: createRegistry('publisher'),
    ...(sinks !== undefined ? { sinks } : {}),
  });
}
