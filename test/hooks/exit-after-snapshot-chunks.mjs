// A test-only fault, injected from outside: loaded with `--import` into a publisher process (see
// faults-kafka.test.ts), it ends the process hard, as kill -9 would, when the publisher is about
// to send chunk number FRESHET_TEST_EXIT_AFTER_CHUNKS of a snapshot. The services carry no hook
// for it: this wraps the Kafka transport's producer, the module the service itself loads.
import { KafkaTransport } from '../../libs/transport/dist/index.js';

const limit = Number(process.env.FRESHET_TEST_EXIT_AFTER_CHUNKS);
if (!Number.isInteger(limit) || limit < 0) throw new Error('exit-after-snapshot-chunks: set FRESHET_TEST_EXIT_AFTER_CHUNKS to a whole number');
const makeProducer = KafkaTransport.prototype.producer;
let chunks = 0;
KafkaTransport.prototype.producer = async function producer() {
  const inner = await makeProducer.call(this);
  return {
    close: () => inner.close(),
    send: async (topic, records) => {
      // snapshot chunks are keyed v<version> on the snapshot topic; manifests are keyed 'manifest'
      if (topic.endsWith('freshet.embeddings.snapshots') && records.some((r) => r.key?.toString().startsWith('v'))) {
        if (chunks >= limit) process.exit(137);
        chunks += records.length;
      }
      return inner.send(topic, records);
    },
  };
};
