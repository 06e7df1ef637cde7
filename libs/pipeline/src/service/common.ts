import { readFileSync } from 'node:fs';
import { HttpSchemaRegistry, LocalSchemaRegistry, loadSchemaFiles, type SchemaRegistry } from '@freshet/avro';
import { createLogger, createRegistry, formatHelp, kafkaLogBridge, parseOptions, startHealthServer, Shutdown, type Logger, type OptionSpec, type OptionValues, type Registry } from '@freshet/runtime';
import { KafkaTransport, MemoryTransport, type Transport } from '@freshet/transport';
import { defaultTopics, type TopicNames } from '../topics.js';

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
  { name: 'sasl-password-file', kind: 'string', env: 'KAFKA_SASL_PASSWORD_FILE', help: 'file holding the SASL password (or KAFKA_SASL_PASSWORD)', secret: true },
  { name: 'schema-registry-url', kind: 'string', env: 'FRESHET_SCHEMA_REGISTRY_URL', help: 'Confluent Schema Registry URL; without it, ids come from the local mapping' },
  { name: 'topic-prefix', kind: 'string', env: 'FRESHET_TOPIC_PREFIX', default: '', help: 'prefix for every topic name (e.g. "staging.")' },
  { name: 'partitions', kind: 'number', env: 'FRESHET_PARTITIONS', default: 4, help: 'partitions of the topics this service creates if missing' },
  { name: 'http-host', kind: 'string', env: 'FRESHET_HTTP_HOST', default: '127.0.0.1', help: 'address of the /metrics, /healthz, /readyz server (0.0.0.0 in containers)' },
  { name: 'http-port', kind: 'number', env: 'FRESHET_HTTP_PORT', default: 9464, help: 'port of that server (0: any free port)' },
];

export function topicsWithPrefix(prefix: string): TopicNames {
  return Object.fromEntries(Object.entries(defaultTopics).map(([k, v]) => [k, `${prefix}${v}`])) as unknown as TopicNames;
}

/** The Kafka transport from the options; secrets only from env or files, never flags or logs. */
export function kafkaFromOptions(v: OptionValues, service: string, logger: Logger, env: Record<string, string | undefined>): Transport {
  const str = (name: string): string | undefined => {
    const x = v.get(name);
    return typeof x === 'string' ? x : undefined;
  };
  const mechanism = str('sasl-mechanism') as 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  const passwordFile = str('sasl-password-file');
  const password = passwordFile !== undefined ? readFileSync(passwordFile, 'utf8').trim() : env.KAFKA_SASL_PASSWORD;
  if (mechanism !== undefined && (str('sasl-username') === undefined || password === undefined)) {
    throw new Error('SASL needs --sasl-username and a password (KAFKA_SASL_PASSWORD or --sasl-password-file)');
  }
  const tls = v.get('kafka-tls') === true;
  const read = (name: string): string | undefined => {
    const f = str(name);
    return f === undefined ? undefined : readFileSync(f, 'utf8');
  };
  const ca = read('kafka-ca-file');
  const cert = read('kafka-cert-file');
  const key = read('kafka-key-file');
  return new KafkaTransport({
    brokers: v.get('brokers') as string[],
    clientId: str('client-id') ?? `freshet-${service}`,
    log: kafkaLogBridge(logger),
    ...(tls ? { ssl: ca || cert || key ? { ...(ca ? { ca: [ca] } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : true } : {}),
    ...(mechanism !== undefined ? { sasl: { mechanism, username: str('sasl-username') ?? '', password: password ?? '' } } : {}),
  });
}

export function schemaRegistryFromOptions(v: OptionValues, env: Record<string, string | undefined>): SchemaRegistry {
  const url = v.get('schema-registry-url');
  if (typeof url === 'string') {
    return new HttpSchemaRegistry({ url, username: env.FRESHET_SCHEMA_REGISTRY_USER, password: env.FRESHET_SCHEMA_REGISTRY_PASSWORD });
  }
  return new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text));
}

export interface ServiceParts {
  start: () => Promise<void>;
  stop: () => Promise<void>;
  live: () => boolean;
  ready: () => boolean;
  details?: () => Record<string, unknown>;
}

export interface ServiceContext {
  options: OptionValues;
  env: Record<string, string | undefined>;
  logger: Logger;
  metrics: Registry;
  transport: Transport;
  registry: SchemaRegistry;
  topics: TopicNames;
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
  const transport: Transport = (options.get('brokers') as string[])[0] === 'memory' ? new MemoryTransport() : kafkaFromOptions(options, name, logger, env);
  const registry = schemaRegistryFromOptions(options, env);
  const topics = topicsWithPrefix(String(options.get('topic-prefix') ?? ''));
  const parts = await build({ options, env, logger, metrics, transport, registry, topics });
  const shutdown = new Shutdown(logger);
  let stopping = false;
  const http = await startHealthServer({
    host: String(options.get('http-host')),
    port: Number(options.get('http-port')),
    registry: metrics,
    live: () => parts.live(),
    ready: () => !stopping && parts.ready(),
    details: parts.details,
  });
  shutdown.add('fail readiness', () => {
    stopping = true;
  });
  shutdown.add(`stop ${name}`, () => parts.stop());
  shutdown.add('close http', () => http.close());
  shutdown.add('flush logs', () => new Promise<void>((resolve) => logger.flush(() => resolve())));
  shutdown.listen();
  logger.info({ http: http.url, brokers: options.get('brokers'), topics }, `${name} starting`);
  const admin = await transport.admin();
  const partitions = Number(options.get('partitions'));
  await admin.createTopics([
    { topic: topics.rawImageLabels, partitions },
    { topic: topics.rawTextWindows, partitions },
    { topic: topics.trainImageLabels, partitions },
    { topic: topics.trainTextWindows, partitions },
    { topic: topics.deadLetters, partitions: 1 },
    { topic: topics.modelUpdates, partitions },
    { topic: topics.embeddingsLatest, partitions, compacted: true },
    { topic: topics.snapshots, partitions: 1 },
  ]);
  await admin.close();
  await parts.start();
  logger.info(`${name} started; metrics on ${http.url}/metrics`);
}
