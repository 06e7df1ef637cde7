import { request } from 'node:http';

/** Where the test run's Kafka broker comes from. */
export type BrokerChoice =
  { kind: 'existing'; brokers: string; reason: string } | { kind: 'testcontainers'; reason: string } | { kind: 'maven'; reason: string };

/**
 * $KAFKA_BROKERS (an existing cluster) wins; otherwise a Docker daemon that answers means
 * testcontainers' Kafka image, and no daemon means a broker from the Maven Central jars (Java and
 * Maven, as on our CI machines). FRESHET_TEST_BROKER=maven|testcontainers forces one.
 */
export function chooseBroker(env: Record<string, string | undefined>, dockerAnswers: boolean): BrokerChoice {
  if (env.KAFKA_BROKERS) return { kind: 'existing', brokers: env.KAFKA_BROKERS, reason: `KAFKA_BROKERS is set: using ${env.KAFKA_BROKERS}` };
  const forced = env.FRESHET_TEST_BROKER;
  if (forced === 'maven') return { kind: 'maven', reason: 'FRESHET_TEST_BROKER=maven: a broker from the Maven Central jars' };
  if (forced === 'testcontainers') return { kind: 'testcontainers', reason: 'FRESHET_TEST_BROKER=testcontainers: Kafka in a container' };
  if (forced !== undefined && forced !== '') throw new Error(`FRESHET_TEST_BROKER must be maven or testcontainers, got ${JSON.stringify(forced)}`);
  if (dockerAnswers) return { kind: 'testcontainers', reason: 'a Docker daemon answers: Kafka in a container (@testcontainers/kafka)' };
  return { kind: 'maven', reason: 'no Docker daemon answers: a broker from the Maven Central jars' };
}

/**
 * Whether a Docker daemon answers its API (GET /_ping) on DOCKER_HOST's unix socket or the
 * default one, within timeoutMs. The docker CLI alone (installed without a daemon) is not enough.
 */
export function dockerAnswers(env: Record<string, string | undefined> = process.env, timeoutMs = 1500): Promise<boolean> {
  const host = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) {
    // a TCP daemon: let testcontainers find out (it reads DOCKER_HOST itself)
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const req = request({ socketPath: host.slice('unix://'.length), path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
