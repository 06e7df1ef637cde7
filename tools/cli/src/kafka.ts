import { TopicCatalogue, kafkaFromOptions } from '@freshet/pipeline';
import { createLogger, str, type OptionValues } from '@freshet/runtime';
import { isUnreachable, type Transport } from '@freshet/transport';

/** How long a command waits for a broker to answer before it says so. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface CliKafka {
  transport: Transport;
  topics: TopicCatalogue;
}

/**
 * The Kafka a command talks to, asked before the command starts: a broker that does not answer
 * within 10 s, or a cluster without the topics the command reads, is one line that names the
 * option to fix, not a minute of client retries. The client's own log lines stay quiet unless
 * FRESHET_LOG_LEVEL asks for them (a terminal gets no JSON noise).
 */
export async function connectKafka(v: OptionValues, client: string, reads: (topics: TopicCatalogue) => string[] = () => []): Promise<CliKafka> {
  const logger = createLogger(client, { level: process.env.FRESHET_LOG_LEVEL || 'silent', destination: process.stderr });
  const transport = kafkaFromOptions(v, client, logger, process.env);
  const brokers = (v.get('brokers') as string[]).join(',');
  const prefix = str(v, 'topic-prefix') ?? '';
  const topics = new TopicCatalogue(prefix);
  const unreachable = `no Kafka broker answered at ${brokers} within ${CONNECT_TIMEOUT_MS / 1000} s: check --brokers (or KAFKA_BROKERS) and that the cluster is up`;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(unreachable)), CONNECT_TIMEOUT_MS);
    timer.unref();
  });
  const listing = (async (): Promise<string[]> => {
    const admin = await transport.admin();
    try {
      return await admin.listTopics();
    } finally {
      await admin.close();
    }
  })();
  let existing: string[];
  try {
    existing = await Promise.race([listing, deadline]);
  } catch (err) {
    if (isUnreachable(err)) throw new Error(unreachable);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const missing = reads(topics).filter((t) => !existing.includes(t));
  if (missing.length > 0) {
    throw new Error(
      `the cluster at ${brokers} has no topic ${missing.join(', ')}: nothing has been published there with --topic-prefix ${JSON.stringify(prefix)} yet ` +
        '(are the services running against this cluster, with this prefix?)',
    );
  }
  return { transport, topics };
}
