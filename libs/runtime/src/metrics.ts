import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per service, with the process defaults. prom-client's
 * `nodejs_active_*_total` gauges break `promtool check metrics` (a gauge named like a counter), so
 * those three are left out; everything else of the defaults stays.
 */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

export { Counter, Gauge, Histogram, Registry };
