export * from './ingest/normalise.js';
export * from './ingest/processor.js';
export * from './topics.js';
