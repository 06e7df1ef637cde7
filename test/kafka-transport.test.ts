import { inject } from 'vitest';
import { KafkaTransport } from '@freshet/transport';
import { transportContract } from './transport-contract.js';
import { ingestBadInputSuite } from './ingest-bad-input.js';

const brokers = inject('kafkaBrokers').split(',');
transportContract(`Kafka (${brokers.join(',')})`, async () => new KafkaTransport({ brokers, clientId: 'freshet-contract-test' }));
ingestBadInputSuite(`Kafka (${brokers.join(',')})`, async () => new KafkaTransport({ brokers, clientId: 'freshet-ingest-test' }));
