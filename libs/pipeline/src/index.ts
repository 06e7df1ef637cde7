export * from './ingest/normalise.js';
