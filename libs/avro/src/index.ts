export * from './schemas.js';
export * from './registry.js';
export * from './codec.js';
export * from './records.js';
