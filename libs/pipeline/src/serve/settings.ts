import { availableParallelism } from 'node:os';
import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';
import { METRICS, type Metric } from './store.js';

/** `freshet serve`'s settings (flags of the serve service). */
export const serveSettings = new SettingsTable('serve', {
  metricNames: setting.text({
    default: 'cos',
    option: 'metrics',
    help: `the metrics neighbour queries may ask for, comma-separated (${METRICS.join(', ')}): an approximate index is kept for each (labels of an image are always exact)`,
  }),
  exactBelow: setting.number({
    default: 50_000,
    option: 'exact-below',
    integer: true,
    min: 0,
    help: 'a kind with fewer vectors is searched exactly (as fast at that size, and the exact answer)',
  }),
  connectivity: setting.number({ default: 16, option: 'hnsw-connectivity', integer: true, min: 2, max: 256, help: 'HNSW: links per node' }),
  expansionAdd: setting.number({
    default: 128,
    option: 'hnsw-expansion-add',
    integer: true,
    min: 1,
    help: 'HNSW: candidates considered when a vector is added',
  }),
  expansionSearch: setting.number({
    default: 128,
    option: 'hnsw-expansion-search',
    integer: true,
    min: 1,
    help: 'HNSW: candidates considered per query (more: higher recall, slower)',
  }),
  indexThreads: setting.number({
    default: availableParallelism(),
    option: 'index-threads',
    integer: true,
    min: 1,
    help: 'threads an index add of many vectors uses (a rebuild from the topic, a burst of updates)',
  }),
  maxK: setting.number({ default: 1000, option: 'max-k', integer: true, min: 1, help: 'the largest k a query may ask for' }),
});

export type ServeSettings = SettingsOf<(typeof serveSettings)['specs']>;

/** The metrics a comma-separated --metrics names, or a one-line error. */
export function parseMetrics(text: string): Metric[] {
  const names = text.split(',').filter((m) => m !== '');
  for (const m of names) if (!METRICS.includes(m as Metric)) throw new Error(`--metrics takes ${METRICS.join(', ')}, got ${JSON.stringify(m)}`);
  return names as Metric[];
}
