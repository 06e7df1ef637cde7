import { MemoryTransport } from '@freshet/transport';
import { transportContract } from './transport-contract.js';

const shared = new MemoryTransport({ partitions: 1 });
transportContract('in-memory', async () => shared);
