export { ServeProcessor, type ServeOptions, type Freshness } from './server.js';
export { serveRoutes } from './queries.js';
export { serveSettings, parseMetrics, type ServeSettings } from './settings.js';
export { KindStore, METRICS, type Metric, type Scored } from './store.js';
