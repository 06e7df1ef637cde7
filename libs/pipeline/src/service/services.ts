import { availableParallelism } from 'node:os';
import type { Optimizer } from '@freshet/core';
import type { OptionSpec, OptionValues } from '@freshet/runtime';
import { defaultIngestLimits } from '../ingest/normalise.js';
import { IngestProcessor } from '../ingest/processor.js';
import { PublisherProcessor } from '../publisher/publisher.js';
import { staleCheckpointPolicies, type StaleCheckpointPolicy } from '../trainer/restore.js';
import { Trainer, type TrainerOptions } from '../trainer/trainer.js';
import type { ServiceContext, ServiceParts } from './common.js';
import type { ProcessorWiring } from '../topics.js';

const n = (v: OptionValues, name: string): number => Number(v.get(name));
const s = (v: OptionValues, name: string): string => String(v.get(name));

/** What every processor takes from the service context. */
function wiring(ctx: ServiceContext): ProcessorWiring {
  // the topic prefix namespaces a deployment: its consumer groups too, so two deployments on one
  // cluster never share a group (a shared exclusive group would leave one trainer standing by)
  const groupId = `${String(ctx.options.get('topic-prefix') ?? '')}${s(ctx.options, 'group-id')}`;
  return { transport: ctx.transport, registry: ctx.registry, topics: ctx.topics, logger: ctx.logger, metrics: ctx.metrics, groupId, onFatal: (err) => ctx.fail(err) };
}

export const ingestOptions: OptionSpec[] = [
  { name: 'group-id', kind: 'string', env: 'FRESHET_GROUP_ID', default: 'freshet-ingest', help: 'consumer group (the topic prefix is put in front)' },
  { name: 'max-record-bytes', kind: 'number', integer: true, min: 1, env: 'FRESHET_MAX_RECORD_BYTES', default: defaultIngestLimits.maxRecordBytes, help: 'larger records are dead-lettered' },
  { name: 'max-id-length', kind: 'number', integer: true, min: 1, env: 'FRESHET_MAX_ID_LENGTH', default: defaultIngestLimits.maxIdLength, help: 'longest image or document id' },
  { name: 'max-labels', kind: 'number', integer: true, min: 1, env: 'FRESHET_MAX_LABELS', default: defaultIngestLimits.maxLabels, help: 'most labels per image event' },
  { name: 'max-label-length', kind: 'number', integer: true, min: 1, env: 'FRESHET_MAX_LABEL_LENGTH', default: defaultIngestLimits.maxLabelLength, help: 'longest label' },
  { name: 'max-tokens', kind: 'number', integer: true, min: 1, env: 'FRESHET_MAX_TOKENS', default: defaultIngestLimits.maxTokens, help: 'most tokens per text window' },
  { name: 'max-token-length', kind: 'number', env: 'FRESHET_MAX_TOKEN_LENGTH', integer: true, min: 1, default: defaultIngestLimits.maxTokenLength, help: 'longer tokens are dropped' },
  { name: 'max-event-time-skew-ms', kind: 'number', env: 'FRESHET_MAX_EVENT_TIME_SKEW_MS', integer: true, min: 0, default: defaultIngestLimits.maxFutureSkewMs, help: 'how far in the future an event time may be (producer clock skew)' },
  { name: 'future-event-time', kind: 'string', env: 'FRESHET_FUTURE_EVENT_TIME', default: defaultIngestLimits.futureEventTime, choices: ['reject', 'clamp'], help: 'an event time beyond the skew: dead-lettered (EVENT_TIME_IN_FUTURE), or clamped to now and counted' },
];

export function buildIngest(ctx: ServiceContext): ServiceParts {
  const v = ctx.options;
  const ingest = new IngestProcessor({
    ...wiring(ctx),
    limits: {
      maxRecordBytes: n(v, 'max-record-bytes'),
      maxIdLength: n(v, 'max-id-length'),
      maxLabels: n(v, 'max-labels'),
      maxLabelLength: n(v, 'max-label-length'),
      maxTokens: n(v, 'max-tokens'),
      maxTokenLength: n(v, 'max-token-length'),
      maxFutureSkewMs: n(v, 'max-event-time-skew-ms'),
      futureEventTime: s(v, 'future-event-time') as 'reject' | 'clamp',
    },
  });
  return {
    start: () => ingest.start(),
    stop: () => ingest.stop(),
    live: () => ingest.isRunning,
    ready: () => ingest.isRunning,
    details: () => ({ handled: ingest.handled, partitions: ingest.assignment().length, consumer: ingest.consumerState() }),
    consumer: () => ingest.consumerState(),
  };
}

export const trainerOptions: OptionSpec[] = [
  { name: 'group-id', kind: 'string', env: 'FRESHET_GROUP_ID', default: 'freshet-trainer', help: 'consumer group (the topic prefix is put in front)' },
  { name: 'checkpoint-dir', kind: 'string', env: 'FRESHET_CHECKPOINT_DIR', default: './freshet-checkpoints', help: 'where checkpoints (model + offsets) are written' },
  { name: 'checkpoint-every-ms', kind: 'number', env: 'FRESHET_CHECKPOINT_EVERY_MS', integer: true, min: 100, default: 10_000, help: 'checkpoint (model + offsets) this often' },
  { name: 'updates-every-ms', kind: 'number', env: 'FRESHET_UPDATES_EVERY_MS', integer: true, min: 0, default: 1000, help: 'publish changed rows to the model-updates topic this often, between checkpoints (0: only after each checkpoint)' },
  { name: 'on-stale-checkpoint', kind: 'string', env: 'FRESHET_ON_STALE_CHECKPOINT', default: 'fail', choices: staleCheckpointPolicies, help: "a checkpoint whose offsets are not this log's (wiped broker, recreated topic, other cluster): fail with what to do; reset-to-checkpoint keeps the model and reads the log from its start; reset-to-earliest drops the model" },
  { name: 'threads', kind: 'number', env: 'FRESHET_THREADS', integer: true, min: 1, max: 64, default: availableParallelism(), help: 'SGD threads (Hogwild over shared memory; the main thread keeps Kafka, checkpoints and publishing)' },
  { name: 'seed', kind: 'number', env: 'FRESHET_SEED', integer: true, default: 1, help: 'random seed' },
  { name: 'image-dim', kind: 'number', env: 'FRESHET_IMAGE_DIM', integer: true, min: 1, max: 4096, default: 64, help: 'image-label vector dimension' },
  { name: 'image-lr', kind: 'number', env: 'FRESHET_IMAGE_LR', above: 0, default: 0.02, help: 'image-label learning rate' },
  { name: 'image-reg', kind: 'number', env: 'FRESHET_IMAGE_REG', min: 0, default: 0.003, help: 'image-label L2' },
  { name: 'image-optimizer', kind: 'string', env: 'FRESHET_IMAGE_OPTIMIZER', default: 'adagrad', choices: ['adagrad', 'sgd'], help: 'per-coordinate AdaGrad or plain SGD' },
  { name: 'image-label-bias', kind: 'boolean', env: 'FRESHET_IMAGE_LABEL_BIAS', default: true, help: 'learn a bias per label (score = image · label + bias)' },
  { name: 'image-sampler', kind: 'string', env: 'FRESHET_IMAGE_SAMPLER', default: 'auto', choices: ['auto', 'warp', 'uniform', 'adaptive'], help: 'negative sampler for labels: auto is uniform below 100 labels and WARP from there (what won the convergence benchmark on each side)' },
  { name: 'image-max-sampled', kind: 'number', env: 'FRESHET_IMAGE_MAX_SAMPLED', integer: true, min: 1, default: 30, help: 'WARP: most candidates scored per step' },
  { name: 'image-candidates', kind: 'number', env: 'FRESHET_IMAGE_CANDIDATES', integer: true, min: 1, default: 1, help: 'uniform/adaptive: candidates scored per draw, the hardest kept' },
  { name: 'image-lambda', kind: 'number', env: 'FRESHET_IMAGE_LAMBDA', above: 0, default: 0.3, help: 'adaptive: λ as a fraction of the labels' },
  { name: 'replay-steps', kind: 'number', env: 'FRESHET_REPLAY_STEPS', integer: true, min: 0, default: 20, help: 'SGD steps on remembered pairs per image event' },
  { name: 'replay-capacity', kind: 'number', env: 'FRESHET_REPLAY_CAPACITY', integer: true, min: 1, default: 1_000_000, help: 'pairs remembered for replay' },
  { name: 'image-cap', kind: 'number', env: 'FRESHET_IMAGE_CAP', integer: true, min: 1, default: 2_000_000, help: 'most images with a vector (reserved address space: the model must fit 4 GiB)' },
  { name: 'label-cap', kind: 'number', env: 'FRESHET_LABEL_CAP', integer: true, min: 2, default: 200_000, help: 'most labels with a vector' },
  { name: 'word-dim', kind: 'number', env: 'FRESHET_WORD_DIM', integer: true, min: 1, max: 4096, default: 64, help: 'word vector dimension' },
  { name: 'word-lr', kind: 'number', env: 'FRESHET_WORD_LR', above: 0, default: 0.025, help: 'initial skip-gram learning rate' },
  { name: 'word-floor-lr', kind: 'number', env: 'FRESHET_WORD_FLOOR_LR', above: 0, default: 0.005, help: 'the rate the stream schedule settles at' },
  { name: 'word-sampler', kind: 'string', env: 'FRESHET_WORD_SAMPLER', default: 'popularity', choices: ['popularity', 'adaptive'], help: 'negative sampler for words' },
  { name: 'word-lambda', kind: 'number', env: 'FRESHET_WORD_LAMBDA', above: 0, default: 0.01, help: 'adaptive: λ as a fraction of the vocabulary' },
  { name: 'window', kind: 'number', env: 'FRESHET_WINDOW', integer: true, min: 1, max: 100, default: 5, help: 'skip-gram window' },
  { name: 'negatives', kind: 'number', env: 'FRESHET_NEGATIVES', integer: true, min: 1, max: 100, default: 5, help: 'negatives per pair' },
  { name: 'sample', kind: 'number', env: 'FRESHET_SAMPLE', min: 0, default: 1e-3, help: 'frequent-word subsampling' },
  { name: 'vocab-cap', kind: 'number', env: 'FRESHET_VOCAB_CAP', integer: true, min: 1, default: 500_000, help: 'most words with a vector' },
];

export function trainerOptionsFrom(ctx: ServiceContext): TrainerOptions {
  return { ...wiring(ctx), ...trainerSettings(ctx.options) };
}

/**
 * The trainer's settings from option values (the service's flags and environment). Tests, the
 * demo and the benchmarks build theirs the same way: `trainerSettings(parseOptions(trainerOptions, ['--image-dim', '16']))`.
 */
export function trainerSettings(v: OptionValues): Omit<TrainerOptions, keyof ProcessorWiring> {
  return {
    checkpointDir: s(v, 'checkpoint-dir'),
    checkpointEveryMs: n(v, 'checkpoint-every-ms'),
    updatesEveryMs: n(v, 'updates-every-ms'),
    onStaleCheckpoint: s(v, 'on-stale-checkpoint') as StaleCheckpointPolicy,
    threads: n(v, 'threads'),
    seed: n(v, 'seed'),
    images: {
      dim: n(v, 'image-dim'),
      lr: n(v, 'image-lr'),
      reg: n(v, 'image-reg'),
      optimizer: s(v, 'image-optimizer') as Optimizer,
      labelBias: v.get('image-label-bias') === true,
      sampler: {
        kind: s(v, 'image-sampler') as 'auto' | 'warp' | 'uniform' | 'adaptive',
        candidates: n(v, 'image-candidates'),
        maxSampled: n(v, 'image-max-sampled'),
        lambdaFraction: n(v, 'image-lambda'),
        mixShare: 0.05,
        maxRetries: 10,
      },
      replaySteps: n(v, 'replay-steps'),
      replayCapacity: n(v, 'replay-capacity'),
      imageCap: n(v, 'image-cap'),
      labelCap: n(v, 'label-cap'),
    },
    words: {
      dim: n(v, 'word-dim'),
      window: n(v, 'window'),
      negatives: n(v, 'negatives'),
      sample: n(v, 'sample'),
      schedule: { kind: 'floor', lr: n(v, 'word-lr'), floorLr: n(v, 'word-floor-lr'), halfLifeSteps: 1_000_000 },
      sampler: s(v, 'word-sampler') as 'popularity' | 'adaptive',
      alpha: 0.75,
      lambdaFraction: n(v, 'word-lambda'),
      mixShare: 0.1,
      vocabCap: n(v, 'vocab-cap'),
    },
  };
}

/** Exit status of a trainer that lost its partitions: the supervisor restarts it as a standby. */
export const OWNERSHIP_LOST_EXIT_CODE = 75;

export function buildTrainer(ctx: ServiceContext): ServiceParts {
  const trainer = new Trainer({
    ...trainerOptionsFrom(ctx),
    // the first reason to stop decides the exit status
    onOwnershipLost: () => {
      process.exitCode ??= OWNERSHIP_LOST_EXIT_CODE;
      process.kill(process.pid, 'SIGTERM');
    },
  });
  return {
    start: () => trainer.start(),
    stop: () => trainer.stop(),
    live: () => trainer.isRunning,
    ready: () => trainer.isReady,
    // what the model holds, for operators and for the fault tests' exactly-once accounting
    details: () => ({ ...trainer.details(), consumer: trainer.consumerState() }),
    consumer: () => trainer.consumerState(),
  };
}

export const publisherOptions: OptionSpec[] = [
  { name: 'group-id', kind: 'string', env: 'FRESHET_GROUP_ID', default: 'freshet-publisher', help: 'consumer group (the topic prefix is put in front)' },
  { name: 'publish-every-ms', kind: 'number', env: 'FRESHET_PUBLISH_EVERY_MS', default: 30_000, help: 'cut a snapshot this often when something changed' },
  { name: 'publish-every-updates', kind: 'number', env: 'FRESHET_PUBLISH_EVERY_UPDATES', default: 1_000_000, help: '...or after this many changed vectors' },
  { name: 'chunk-bytes', kind: 'number', env: 'FRESHET_CHUNK_BYTES', default: 512 * 1024, help: 'largest snapshot chunk (keep under the topic max.message.bytes)' },
];

export function buildPublisher(ctx: ServiceContext): ServiceParts {
  const v = ctx.options;
  const publisher = new PublisherProcessor({
    ...wiring(ctx),
    publishEveryMs: n(v, 'publish-every-ms'),
    publishEveryUpdates: n(v, 'publish-every-updates'),
    chunkBytes: n(v, 'chunk-bytes'),
    // fault tests only: dies between the chunks of its first snapshot, like a kill -9 there
    ...(ctx.env.FRESHET_TEST_EXIT_AFTER_CHUNKS ? { exitAfterChunks: Number(ctx.env.FRESHET_TEST_EXIT_AFTER_CHUNKS) } : {}),
  });
  return {
    start: () => publisher.start(),
    stop: () => publisher.stop(),
    live: () => publisher.isRunning,
    ready: () => publisher.isRunning,
    details: () => ({ snapshots: publisher.snapshots, version: publisher.lastVersion, pending: publisher.pendingChanges, consumer: publisher.consumerState() }),
    consumer: () => publisher.consumerState(),
  };
}
