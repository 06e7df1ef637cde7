export * from './ingest/normalise.js';
export * from './ingest/processor.js';
export * from './topics.js';
export * from './trainer/trainer.js';
export * from './trainer/checkpoint.js';
export * from './publisher/publisher.js';
export * from './publisher/reader.js';
