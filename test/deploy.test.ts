import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { alertQueries, dashboardQueries, queriedNames } from './metric-names.js';
import { repoRoot } from './services.js';

const deploy = join(repoRoot, 'deploy');

function promtool(args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', input });
  if (r.error) throw new Error(`promtool is needed (Debian package prometheus): ${r.error.message}`);
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('deployment files', () => {
  it('Prometheus config and alert rules pass promtool', () => {
    const config = promtool(['check', 'config', join(deploy, 'prometheus', 'prometheus.yml')]);
    expect(config.status, config.out).toBe(0);
    const rules = promtool(['check', 'rules', join(deploy, 'prometheus', 'alerts.yml')]);
    expect(rules.status, rules.out).toBe(0);
    expect(rules.out).toContain('6 rules found');
  });

  it('the dashboard is provisionable: stable uid, null id, our datasource, rate() and histogram_quantile()', () => {
    const dash = JSON.parse(readFileSync(join(deploy, 'grafana', 'dashboards', 'freshet.json'), 'utf8')) as { id: null; uid: string; panels: Array<{ datasource: { uid: string } }> };
    expect(dash.id).toBeNull();
    expect(dash.uid).toBe('freshet-overview');
    const ds = parse(readFileSync(join(deploy, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string }> };
    for (const p of dash.panels) expect(p.datasource.uid).toBe(ds.datasources[0].uid);
    const queries = dashboardQueries();
    expect(queries.some((q) => q.includes('rate('))).toBe(true);
    expect(queries.some((q) => q.includes('histogram_quantile('))).toBe(true);
    for (const q of [...queries, ...alertQueries()]) expect(queriedNames(q).length, q).toBeGreaterThan(0);
  });

  it('the compose file (checked statically: no Docker engine here) runs Kafka, the services, Prometheus and Grafana', () => {
    const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { command?: string[]; volumes?: string[]; environment?: Record<string, string> }> };
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'ingest', 'kafka', 'prometheus', 'publisher', 'trainer']);
    for (const name of ['ingest', 'trainer', 'publisher']) {
      const cmd = compose.services[name].command ?? [];
      expect(cmd[1]).toBe(`services/${name}/dist/main.js`);
      expect(existsSync(join(repoRoot, 'services', name, 'src', 'main.ts'))).toBe(true);
      expect(compose.services[name].environment?.KAFKA_BROKERS).toBe('kafka:9092');
    }
    for (const svc of ['prometheus', 'grafana']) {
      for (const v of compose.services[svc].volumes ?? []) expect(existsSync(join(deploy, v.split(':')[0])), v).toBe(true);
    }
  });

  it('the Kubernetes manifests wire probes, resources and disruption budgets', () => {
    const docs = parseAllDocuments(readFileSync(join(deploy, 'k8s', 'freshet.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['freshet-ingest', 'freshet-publisher', 'freshet-trainer']);
    for (const d of deployments) {
      const c = (d.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0] as {
        livenessProbe: { httpGet: { path: string } };
        readinessProbe: { httpGet: { path: string } };
        resources: { requests: Record<string, string> };
        envFrom: unknown[];
      };
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(c.envFrom.length).toBeGreaterThan(0);
    }
    expect(docs.filter((d) => d.kind === 'PodDisruptionBudget').length).toBeGreaterThanOrEqual(1);
  });
});
