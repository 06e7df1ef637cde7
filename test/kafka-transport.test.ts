import { inject } from 'vitest';
import { KafkaTransport } from '@freshet/transport';
import { transportContract } from './transport-contract.js';
import { ingestBadInputSuite, type IngestLauncher } from './ingest-bad-input.js';
import { health, startService, stopService, type IngestHealth } from './services.js';

const brokers = inject('kafkaBrokers').split(',');

/** The ingest service as its own process (the compiled entry point), watched through HTTP. */
const ingestService: IngestLauncher = async (_transport, _topics, prefix) => {
  const s = await startService('ingest', {
    KAFKA_BROKERS: brokers.join(','),
    FRESHET_TOPIC_PREFIX: prefix,
    FRESHET_PARTITIONS: '1',
    FRESHET_MAX_RECORD_BYTES: String(8 * 1024),
  });
  return {
    handled: async () => (await health<IngestHealth>(s)).handled,
    running: async () => s.child.exitCode === null && (await fetch(`http://127.0.0.1:${s.port}/readyz`)).status === 200,
    metrics: async () => (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text(),
    stop: async () => {
      await stopService(s);
    },
  };
};

transportContract(`Kafka (${brokers.join(',')})`, async () => new KafkaTransport({ brokers, clientId: 'freshet-contract-test' }));
ingestBadInputSuite(`Kafka (${brokers.join(',')}), ingest in the test process`, async () => new KafkaTransport({ brokers, clientId: 'freshet-ingest-test' }));
ingestBadInputSuite(
  `Kafka (${brokers.join(',')}), the ingest service as a process`,
  async () => new KafkaTransport({ brokers, clientId: 'freshet-ingest-service-test' }),
  ingestService,
);
