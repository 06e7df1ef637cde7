import type { TestProject } from 'vitest/node';
import { startBroker, stopBroker } from '../../scripts/kafka-broker.mjs';
import { chooseBroker, dockerAnswers } from './broker-choice.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/**
 * Every test run talks to a real Kafka broker: $KAFKA_BROKERS if set (an existing cluster), else
 * Kafka in a container by testcontainers where a Docker daemon answers, else a broker started here
 * from the Maven Central jars (our CI). The choice is logged. If the broker cannot start, the run
 * fails: Kafka tests are never skipped silently. (Tests that restart, wipe or secure a broker start
 * their own from the Maven jars: those need Java and Maven wherever they run.)
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const choice = chooseBroker(process.env, await dockerAnswers());
  process.stderr.write(`[kafka] ${choice.reason}\n`);
  if (choice.kind === 'existing') {
    project.provide('kafkaBrokers', choice.brokers);
    return async () => undefined;
  }
  if (choice.kind === 'testcontainers') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.6.1').withKraft().start();
    project.provide('kafkaBrokers', `${container.getHost()}:${container.getMappedPort(9093)}`);
    return async () => {
      await container.stop();
    };
  }
  const broker = await startBroker(undefined, { timeoutMs: 180_000 });
  process.env.FRESHET_TEST_BROKER_DIR = broker.dir;
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    await stopBroker(broker.dir);
  };
}
