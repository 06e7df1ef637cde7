import type { TestProject } from 'vitest/node';
import { startBroker, stopBroker } from '../../scripts/kafka-broker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/**
 * Every test run talks to a real Kafka broker: $KAFKA_BROKERS if set (an existing cluster, or one
 * started by testcontainers where Docker exists), otherwise a broker started here from the Maven
 * Central jars. If it cannot start, the run fails: Kafka tests are never skipped silently.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.KAFKA_BROKERS;
  if (existing) {
    project.provide('kafkaBrokers', existing);
    return async () => undefined;
  }
  const broker = await startBroker(undefined, { timeoutMs: 180_000 });
  process.env.FRESHET_TEST_BROKER_DIR = broker.dir;
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    await stopBroker(broker.dir);
  };
}
