import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './services.js';

/** Metric names in a Prometheus exposition (histograms also under their _bucket/_sum/_count series). */
export function exposedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

const FUNCTIONS = new Set([
  'sum',
  'rate',
  'increase',
  'max',
  'min',
  'avg',
  'histogram_quantile',
  'time',
  'clamp_min',
  'by',
  'and',
  'or',
  'on',
  'le',
  'count',
  'without',
  'humanizeDuration',
  'absent',
  'delta',
]);

/** Series Prometheus makes itself for every target (no service exposes them). */
export const SCRAPE_SERIES = new Set(['up']);

/** The metric names a PromQL expression reads (identifiers that are not functions, keywords or labels): ours, and the scrape's own. */
export function queriedNames(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/by \([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...withoutLabels.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((n) => !FUNCTIONS.has(n) && (n.startsWith('freshet_') || SCRAPE_SERIES.has(n)));
}

export function dashboardQueries(): string[] {
  const dash = JSON.parse(readFileSync(join(repoRoot, 'deploy', 'grafana', 'dashboards', 'freshet.json'), 'utf8')) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
  };
  return dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

export function alertQueries(): string[] {
  const rules = parse(readFileSync(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}
