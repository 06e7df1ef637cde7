export * from './types.js';
export { MemoryTransport } from './memory.js';
export { KafkaTransport, type KafkaTransportOptions, type KafkaSecurity } from './kafka.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { lz4Frame, lz4Unframe, producerCompressions, registerCompressionCodecs, type ProducerCompression } from './compression.js';
export { TransportError, transportErrorCodes, isUnreachable, type TransportErrorCode } from './errors.js';
