export * from './options.js';
export * from './logger.js';
export * from './metrics.js';
export * from './http.js';
export * from './shutdown.js';
export * from './net.js';
export * from './settings.js';
export * from './wait.js';
