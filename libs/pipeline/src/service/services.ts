import type { OptionSpec, OptionValues, SettingValue } from '@freshet/runtime';
import { ingestLimitOptions, ingestLimitsFrom } from '../ingest/limits.js';
import { IngestProcessor } from '../ingest/processor.js';
import { PublisherProcessor } from '../publisher/publisher.js';
import { parseMetrics, serveSettings } from '../serve/settings.js';
import { serveRoutes } from '../serve/queries.js';
import { ServeProcessor } from '../serve/server.js';
import { publisherSettings } from '../publisher/settings.js';
import { STREAMS } from '../streams/index.js';
import { trainerSettings, type TrainerSettings } from '../trainer/settings.js';
import { Trainer } from '../trainer/trainer.js';
import type { ProcessorWiring } from '../wiring.js';
import type { ServiceContext, ServiceParts } from './common.js';

/**
 * The services' option tables, generated from the settings tables of the code that uses
 * them (ingest's and each stream's limits, the trainer's and each stream's learner settings, the
 * publisher's), and the services built from the values.
 */
const groupOption = (service: string): OptionSpec => ({
  name: 'group-id',
  kind: 'string',
  env: 'FRESHET_GROUP_ID',
  default: `freshet-${service}`,
  help: 'consumer group (the topic prefix is put in front)',
});

/** What every processor takes from the service context. */
function wiring(ctx: ServiceContext): ProcessorWiring {
  // the topic prefix namespaces a deployment: its consumer groups too, so two deployments on one
  // cluster never share a group (a shared exclusive group would leave one trainer standing by)
  const groupId = `${String(ctx.options.get('topic-prefix') ?? '')}${String(ctx.options.get('group-id'))}`;
  return {
    transport: ctx.transport,
    registry: ctx.registry,
    topics: ctx.topics,
    logger: ctx.logger,
    metrics: ctx.metrics,
    groupId,
    onFatal: (err) => ctx.fail(err),
  };
}

export const ingestOptions: OptionSpec[] = [groupOption('ingest'), ...ingestLimitOptions()];

export function buildIngest(ctx: ServiceContext): ServiceParts {
  const ingest = new IngestProcessor({ ...wiring(ctx), limits: ingestLimitsFrom(ctx.options, ctx.topics.streams) });
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
  groupOption('trainer'),
  ...trainerSettings.options({ env: true }),
  ...STREAMS.flatMap((s) => s.settings.options({ env: true })),
];

/** The trainer's settings and every stream's from option values (the service's flags and environment). */
export function trainerSettingsFrom(v: OptionValues): TrainerSettings & { streams: Record<string, Record<string, SettingValue>> } {
  return { ...trainerSettings.read(v, { env: true }), streams: Object.fromEntries(STREAMS.map((s) => [s.name, s.settings.read(v, { env: true })])) };
}

/** Exit status of a trainer that lost its partitions: the supervisor restarts it as a standby. */
export const OWNERSHIP_LOST_EXIT_CODE = 75;

export function buildTrainer(ctx: ServiceContext): ServiceParts {
  const trainer = new Trainer({
    ...wiring(ctx),
    ...trainerSettingsFrom(ctx.options),
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

export const publisherOptions: OptionSpec[] = [groupOption('publisher'), ...publisherSettings.options({ env: true })];

export function buildPublisher(ctx: ServiceContext): ServiceParts {
  const publisher = new PublisherProcessor({ ...wiring(ctx), ...publisherSettings.read(ctx.options, { env: true }) });
  return {
    start: () => publisher.start(),
    stop: () => publisher.stop(),
    live: () => publisher.isRunning,
    ready: () => publisher.isRunning,
    details: () => ({ snapshots: publisher.snapshots, version: publisher.lastVersion, pending: publisher.pendingChanges, consumer: publisher.consumerState() }),
    consumer: () => publisher.consumerState(),
  };
}

export const serveOptions: OptionSpec[] = [groupOption('serve'), ...serveSettings.options({ env: true })];

export function buildServe(ctx: ServiceContext): ServiceParts {
  const settings = serveSettings.read(ctx.options, { env: true });
  const serve = new ServeProcessor({ ...wiring(ctx), ...settings, indexMetrics: parseMetrics(settings.metricNames) });
  return {
    start: () => serve.start(),
    stop: () => serve.stop(),
    live: () => serve.isRunning,
    // ready once caught up with the latest-vector topic: an answer before that would be stale
    ready: () => serve.isReady,
    details: () => ({
      caughtUp: serve.isReady,
      vectors: serve.counts(),
      ...serve.freshness(),
      consumed: Object.fromEntries(serve.consumed),
      consumer: serve.consumerState(),
    }),
    consumer: () => serve.consumerState(),
    routes: serveRoutes(serve, settings.maxK),
  };
}
