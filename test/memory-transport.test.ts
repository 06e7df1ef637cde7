import { MemoryTransport } from '@freshet/transport';
import { transportContract } from './transport-contract.js';
import { ingestBadInputSuite } from './ingest-bad-input.js';

const shared = new MemoryTransport({ partitions: 1 });
transportContract('in-memory', async () => shared);
ingestBadInputSuite('in-memory', async () => shared);
