/** How a service reaches Kafka and the schema registry, from its options: addresses checked, secrets read from env or files. */
import { readFileSync } from 'node:fs';
import { HttpSchemaRegistry, LocalSchemaRegistry, SchemaSet, type SchemaRegistry } from '@freshet/avro';
import { kafkaLogBridge, type Logger, type OptionValues } from '@freshet/runtime';
import { KafkaTransport, type ProducerCompression, type Transport } from '@freshet/transport';

/** The Kafka transport from the options; secrets only from env or files, never flags or logs. */
export function kafkaFromOptions(
  v: OptionValues,
  service: string,
  logger: Logger,
  env: Record<string, string | undefined>,
  onProducerError?: (err: unknown) => void,
): Transport {
  const str = (name: string): string | undefined => {
    const x = v.get(name);
    return typeof x === 'string' ? x : undefined;
  };
  const mechanism = str('sasl-mechanism') as 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  const passwordFile = str('sasl-password-file');
  const password = passwordFile !== undefined ? readOptionFile(passwordFile, 'sasl-password-file').trim() : env.KAFKA_SASL_PASSWORD;
  if (mechanism !== undefined && (str('sasl-username') === undefined || password === undefined)) {
    throw new Error(`--sasl-mechanism ${mechanism} needs --sasl-username (KAFKA_SASL_USERNAME) and a password (KAFKA_SASL_PASSWORD or --sasl-password-file)`);
  }
  const brokers = checkBrokers(v.get('brokers') as string[]);
  const tls = v.get('kafka-tls') === true;
  const read = (name: string): string | undefined => {
    const f = str(name);
    return f === undefined ? undefined : readOptionFile(f, name);
  };
  const ca = read('kafka-ca-file');
  const cert = read('kafka-cert-file');
  const key = read('kafka-key-file');
  return new KafkaTransport({
    brokers,
    clientId: str('client-id') ?? `freshet-${service}`,
    log: kafkaLogBridge(logger),
    compression: str('producer-compression') as ProducerCompression | undefined,
    ...(onProducerError !== undefined ? { onProducerError } : {}),
    ...(tls ? { ssl: ca || cert || key ? { ...(ca ? { ca: [ca] } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : true } : {}),
    ...(mechanism !== undefined ? { sasl: { mechanism, username: str('sasl-username') ?? '', password: password ?? '' } } : {}),
  });
}

/**
 * Broker addresses as Kafka clients take them (host:port, a port from 1 to 65535), or a one-line
 * error naming the option: kafkajs takes `localhost` without a port and fails a minute later with
 * "Port should be >= 0 and < 65536 ... (NaN)".
 */
export function checkBrokers(brokers: readonly string[]): string[] {
  if (brokers.length === 0) throw new Error('--brokers (KAFKA_BROKERS) is empty: give host:port addresses, separated by commas');
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/.exec(b);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new Error(`--brokers (KAFKA_BROKERS) takes host:port addresses with a port from 1 to 65535, got ${JSON.stringify(b)}`);
  }
  return [...brokers];
}

/** A file an option names, or a one-line error naming the option. */
function readOptionFile(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`--${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

export function schemaRegistryFromOptions(v: OptionValues, env: Record<string, string | undefined>): SchemaRegistry {
  const url = v.get('schema-registry-url');
  if (typeof url === 'string') {
    return new HttpSchemaRegistry({ url, username: env.FRESHET_SCHEMA_REGISTRY_USER, password: env.FRESHET_SCHEMA_REGISTRY_PASSWORD });
  }
  return new LocalSchemaRegistry(SchemaSet.load().texts());
}
