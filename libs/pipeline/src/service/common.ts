import { readFileSync } from 'node:fs';
import type { SchemaRegistry } from '@freshet/avro';
import {
  Counter,
  Gauge,
  createLogger,
  createRegistry,
  formatHelp,
  parseOptions,
  startHealthServer,
  Shutdown,
  type Logger,
  type OptionSpec,
  type OptionValues,
  type Registry,
  type Route,
} from '@freshet/runtime';
import { MemoryTransport, producerCompressions, type ConsumerState, type Transport } from '@freshet/transport';
import { TopicCatalogue } from '../catalogue.js';
import { kafkaFromOptions, schemaRegistryFromOptions } from './connections.js';

/** Options every service has: Kafka and its security, the schema registry, topics, HTTP. */
export const commonOptions: OptionSpec[] = [
  { name: 'brokers', kind: 'list', env: 'KAFKA_BROKERS', help: 'Kafka bootstrap servers, comma-separated', required: true },
  { name: 'client-id', kind: 'string', env: 'FRESHET_CLIENT_ID', help: 'Kafka client id (default: the service name)' },
  { name: 'kafka-tls', kind: 'boolean', env: 'KAFKA_TLS', default: false, help: 'connect with TLS' },
  { name: 'kafka-ca-file', kind: 'string', env: 'KAFKA_CA_FILE', help: 'PEM file of the CA that signed the brokers (TLS)' },
  { name: 'kafka-cert-file', kind: 'string', env: 'KAFKA_CERT_FILE', help: 'client certificate PEM (mutual TLS)' },
  { name: 'kafka-key-file', kind: 'string', env: 'KAFKA_KEY_FILE', help: 'client key PEM (mutual TLS)' },
  { name: 'sasl-mechanism', kind: 'string', env: 'KAFKA_SASL_MECHANISM', choices: ['plain', 'scram-sha-256', 'scram-sha-512'], help: 'SASL mechanism' },
  { name: 'sasl-username', kind: 'string', env: 'KAFKA_SASL_USERNAME', help: 'SASL user name' },
  {
    name: 'sasl-password-file',
    kind: 'string',
    env: 'KAFKA_SASL_PASSWORD_FILE',
    help: 'file holding the SASL password (or KAFKA_SASL_PASSWORD)',
    secret: true,
  },
  {
    name: 'schema-registry-url',
    kind: 'string',
    env: 'FRESHET_SCHEMA_REGISTRY_URL',
    help: 'Confluent Schema Registry URL; without it, ids come from the local mapping',
  },
  { name: 'topic-prefix', kind: 'string', env: 'FRESHET_TOPIC_PREFIX', default: '', help: 'prefix for every topic name (e.g. "staging.")' },
  {
    name: 'partitions',
    kind: 'number',
    env: 'FRESHET_PARTITIONS',
    integer: true,
    min: 1,
    max: 10_000,
    default: 4,
    help: 'partitions of the topics this service creates if missing',
  },
  {
    name: 'producer-compression',
    kind: 'string',
    env: 'FRESHET_PRODUCER_COMPRESSION',
    default: 'none',
    choices: producerCompressions,
    help: 'compression of the batches this service produces (consumers read every codec: gzip, snappy, lz4, zstd)',
  },
  {
    name: 'http-host',
    kind: 'string',
    env: 'FRESHET_HTTP_HOST',
    default: '127.0.0.1',
    help: 'address of the /metrics, /healthz, /readyz server (0.0.0.0 in containers)',
  },
  {
    name: 'http-port',
    kind: 'number',
    env: 'FRESHET_HTTP_PORT',
    integer: true,
    min: 0,
    max: 65_535,
    default: 9464,
    help: 'port of that server (0: any free port)',
  },
];

export interface ServiceParts {
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** the process works (a failed one is restarted by its supervisor) */
  live: () => boolean;
  /** it does its job now (false while restoring, standing up, or with its consumer down) */
  ready: () => boolean;
  details?: () => Record<string, unknown>;
  /** its consumer's health: readiness, metrics and alerts read it */
  consumer?: () => ConsumerState | null;
  /** more GET endpoints (a query service's), served beside /metrics, /healthz and /readyz */
  routes?: Readonly<Record<string, Route>>;
}

/**
 * Metrics every service has: whether its consumer is up, how often its group rebalanced and its
 * client restarted after a crash, failed producer sends, and a build-info gauge.
 */
function serviceHealthMetrics(registry: Registry) {
  const registers = [registry];
  let source: () => ConsumerState | null = () => null;
  const up: Gauge = new Gauge({
    name: 'freshet_consumer_up',
    help: '1 while this service consumes (joined, not crashed, not stopped), 0 otherwise.',
    registers,
    collect: () => {
      up.set(source()?.up === true ? 1 : 0);
    },
  });
  mirroredCounter('freshet_consumer_rebalances_total', 'Consumer group (re)joins of this member since start.', () => source()?.rebalances ?? 0, registers);
  mirroredCounter('freshet_consumer_restarts_total', 'Consumer crashes the client recovered from by restarting.', () => source()?.restarts ?? 0, registers);
  const producerErrors = new Counter({ name: 'freshet_producer_errors_total', help: 'Producer sends that failed after the client retried.', registers });
  // the registry labels every series with the service already
  const build = new Gauge({
    name: 'freshet_build_info',
    help: 'Always 1: the version of the service and the Node.js it runs on.',
    labelNames: ['version', 'node'],
    registers,
  });
  build.set({ version: BUILD_VERSION, node: process.version }, 1);
  return {
    producerErrors,
    watch(consumer: () => ConsumerState | null): void {
      source = consumer;
    },
  };
}

/** A counter that follows a running total kept elsewhere (the consumer's state), read at scrape time. */
function mirroredCounter(name: string, help: string, total: () => number, registers: Registry[]): Counter {
  let seen = 0;
  const counter: Counter = new Counter({
    name,
    help,
    registers,
    collect: () => {
      const n = total();
      if (n > seen) counter.inc(n - seen);
      seen = Math.max(seen, n);
    },
  });
  return counter;
}

/** The release, from the package itself (every package.json of the workspace carries the same one; test/deploy.test.ts holds the image tags to it). */
const BUILD_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface ServiceContext {
  options: OptionValues;
  env: Record<string, string | undefined>;
  logger: Logger;
  metrics: Registry;
  transport: Transport;
  registry: SchemaRegistry;
  topics: TopicCatalogue;
  /** stops the service because it cannot go on: logs why, exits non-zero after a graceful shutdown */
  fail: (err: Error, exitCode?: number) => void;
}

/**
 * The life of every service: parse and validate configuration (or print --help), create the
 * logger, metrics registry, transport and schema registry, start the HTTP server, start the
 * work, and on SIGTERM/SIGINT fail readiness, stop the work, close HTTP and flush logs.
 */
export async function runService(
  name: string,
  summary: string,
  specs: OptionSpec[],
  build: (ctx: ServiceContext) => ServiceParts | Promise<ServiceParts>,
  argv: string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const all = [...commonOptions, ...specs];
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(formatHelp(`freshet-${name} [options]`, summary, all) + '\n');
    return;
  }
  let options: OptionValues;
  try {
    options = parseOptions(all, argv, env);
  } catch (err) {
    process.stderr.write(`freshet-${name}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = createLogger(name);
  const metrics = createRegistry(name);
  const serviceMetrics = serviceHealthMetrics(metrics);
  let transport: Transport;
  let registry: SchemaRegistry;
  try {
    transport =
      (options.get('brokers') as string[])[0] === 'memory'
        ? new MemoryTransport()
        : kafkaFromOptions(options, name, logger, env, () => serviceMetrics.producerErrors.inc());
    registry = schemaRegistryFromOptions(options, env);
  } catch (err) {
    // a configuration problem (a missing file, SASL without a user): one line, no stack trace
    process.stderr.write(`freshet-${name}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const topics = new TopicCatalogue(String(options.get('topic-prefix') ?? ''));
  let failed: Error | null = null;
  const fail = (err: Error, exitCode = 1): void => {
    if (failed !== null) return;
    failed = err;
    logger.error({ err }, `${name} cannot go on; exiting with status ${exitCode} so that its supervisor restarts it`);
    process.exitCode ??= exitCode;
    process.kill(process.pid, 'SIGTERM');
  };
  const parts = await build({ options, env, logger, metrics, transport, registry, topics, fail });
  const shutdown = new Shutdown(logger);
  let stopping = false;
  let started = false;
  serviceMetrics.watch(() => parts.consumer?.() ?? null);
  const consumerUp = (): boolean => parts.consumer === undefined || parts.consumer()?.up === true;
  let http: Awaited<ReturnType<typeof startHealthServer>>;
  try {
    http = await startHealthServer({
      host: String(options.get('http-host')),
      port: Number(options.get('http-port')),
      registry: metrics,
      // alive while it has not given up: before Kafka answers (a slow start) the process is waiting, not broken
      live: () => failed === null && (!started || parts.live()),
      ready: () => !stopping && failed === null && consumerUp() && parts.ready(),
      details: parts.details,
      ...(parts.routes !== undefined ? { routes: parts.routes } : {}),
    });
  } catch (err) {
    process.stderr.write(`freshet-${name}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  shutdown.add('fail readiness', () => {
    stopping = true;
  });
  shutdown.add(`stop ${name}`, () => parts.stop());
  shutdown.add('close http', () => http.close());
  shutdown.add('flush logs', () => new Promise<void>((resolve) => logger.flush(() => resolve())));
  shutdown.listen();
  const topicSpecs = topics.specs(Number(options.get('partitions')));
  logger.info({ http: http.url, brokers: options.get('brokers'), topics: topicSpecs.map((t) => t.topic) }, `${name} starting`);
  const admin = await transport.admin();
  await admin.createTopics(topicSpecs);
  await admin.close();
  await parts.start();
  started = true;
  logger.info(`${name} started; metrics on ${http.url}/metrics`);
}
