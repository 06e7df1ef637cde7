import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** The release: every package.json of the workspace carries it. */
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('deployment files', () => {
  it('one version: every package, the image tags and the README carry the root package version', () => {
    const packages = ['libs', 'services', 'tools'].flatMap((dir) => readdirSync(join(repoRoot, dir)).map((name) => join(repoRoot, dir, name, 'package.json')));
    for (const p of [...packages, join(repoRoot, 'bench', 'package.json'), join(repoRoot, 'test', 'package.json')].filter((p) => existsSync(p)))
      expect((JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version, p).toBe(version);
    for (const f of [join(deploy, 'docker-compose.yml'), join(deploy, 'k8s', 'freshet.yaml'), join(deploy, 'README.md'), join(deploy, 'Dockerfile')])
      for (const m of readFileSync(f, 'utf8').matchAll(/freshet:(\d+\.\d+\.\d+)/g)) expect(m[1], f).toBe(version);
  });

  it('deploy/README names the datasource uid the dashboard uses, the Secret it mounts and the ACLs the services need', () => {
    const readme = readFileSync(join(deploy, 'README.md'), 'utf8');
    const ds = parse(readFileSync(join(deploy, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string }> };
    expect(readme).toContain(`uid \`${ds.datasources[0].uid}\``);
    expect(readme).toMatch(/kubectl create secret generic freshet-kafka --from-file=password=/);
    for (const acl of ['freshet.raw.', 'freshet-ingest', 'freshet-read-', 'IdempotentWrite', 'TransactionalId']) expect(readme, acl).toContain(acl);
  });

  it('Prometheus config and alert rules pass promtool', () => {
    const config = promtool(['check', 'config', join(deploy, 'prometheus', 'prometheus.yml')]);
    expect(config.status, config.out).toBe(0);
    const rules = promtool(['check', 'rules', join(deploy, 'prometheus', 'alerts.yml')]);
    expect(rules.status, rules.out).toBe(0);
    expect(rules.out).toContain('20 rules found');
  });

  it('each alert fires on the condition it is for (promtool rule unit tests on synthetic series)', () => {
    const tests = promtool(['test', 'rules', join(deploy, 'prometheus', 'alerts.test.yml')]);
    expect(tests.status, tests.out).toBe(0);
    expect(tests.out).toContain('SUCCESS');
  });

  it('the dashboard is provisionable: stable uid, null id, our datasource, rate() and histogram_quantile()', () => {
    const dash = JSON.parse(readFileSync(join(deploy, 'grafana', 'dashboards', 'freshet.json'), 'utf8')) as {
      id: null;
      uid: string;
      panels: Array<{ datasource: { uid: string } }>;
    };
    expect(dash.id).toBeNull();
    expect(dash.uid).toBe('freshet-overview');
    const ds = parse(readFileSync(join(deploy, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string }> };
    for (const p of dash.panels) expect(p.datasource.uid).toBe(ds.datasources[0].uid);
    const queries = dashboardQueries();
    expect(queries.some((q) => q.includes('rate('))).toBe(true);
    expect(queries.some((q) => q.includes('histogram_quantile('))).toBe(true);
    for (const q of [...queries, ...alertQueries()]) expect(queriedNames(q).length, q).toBeGreaterThan(0);
  });

  it('the compose file (checked statically: no Docker engine here) runs Kafka, the services, a feeder, Prometheus and Grafana, and would work as written', () => {
    type Svc = {
      image?: string;
      pull_policy?: string;
      command?: string[];
      volumes?: string[];
      ports?: string[];
      profiles?: string[];
      environment?: Record<string, string>;
    };
    const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Svc> };
    expect(Object.keys(compose.services).sort()).toEqual(['feeder', 'grafana', 'ingest', 'kafka', 'prometheus', 'publisher', 'serve', 'trainer']);
    for (const name of ['ingest', 'trainer', 'publisher', 'serve']) {
      const svc = compose.services[name];
      expect(svc.command?.[1]).toBe(`services/${name}/dist/main.js`);
      expect(existsSync(join(repoRoot, 'services', name, 'src', 'main.ts'))).toBe(true);
      expect(svc.environment?.KAFKA_BROKERS).toBe('kafka:9092');
      // a locally built image, never pulled from a registry that does not have it
      expect(svc.image).toMatch(/^freshet:\d+\.\d+\.\d+$/);
      expect(svc.pull_policy).toBe('never');
    }
    // the trainer's checkpoints go where the image makes the node user the owner
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    const ckDir = compose.services.trainer.environment?.FRESHET_CHECKPOINT_DIR ?? '';
    expect(compose.services.trainer.volumes).toContain(`checkpoints:${ckDir}`);
    expect(dockerfile).toMatch(new RegExp(`mkdir -p ${ckDir}[^\\n]*chown -R node:node`));
    expect(dockerfile).toMatch(/^USER node$/m);
    // Kafka answers the compose network and the host (a feeder or reader outside Docker)
    const kafka = compose.services.kafka.environment ?? {};
    // its log lives on the volume, formatted once with a fixed cluster id: a recreated container keeps its data
    const kafkaVolume = (compose.services.kafka.volumes ?? []).find((v) => v.startsWith('kafka-data:'))?.split(':')[1];
    expect(kafka.KAFKA_LOG_DIRS).toBe(kafkaVolume);
    expect(kafka.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(compose.services.ingest.image).toBe(`freshet:${version}`);
    expect(kafka.KAFKA_ADVERTISED_LISTENERS).toMatch(/INTERNAL:\/\/kafka:9092/);
    expect(kafka.KAFKA_ADVERTISED_LISTENERS).toMatch(/EXTERNAL:\/\/localhost:29092/);
    expect(compose.services.kafka.ports).toContain('29092:29092');
    // the feeder runs the CLI on data the image carries
    const feeder = compose.services.feeder;
    expect(feeder.profiles).toEqual(['feed']);
    expect(feeder.command?.slice(0, 3)).toEqual(['node', 'tools/cli/dist/main.js', 'feed']);
    expect(existsSync(join(repoRoot, feeder.command?.[4] ?? 'missing'))).toBe(true);
    for (const svc of ['prometheus', 'grafana']) {
      for (const v of compose.services[svc].volumes ?? []) expect(existsSync(join(deploy, v.split(':')[0])), v).toBe(true);
    }
  });

  it('the image ships no dev dependencies, no host state, and builds from a clean context', () => {
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    // the build stage prunes to production dependencies before the runtime stage copies /app
    expect(dockerfile).toMatch(/install --frozen-lockfile --prod/);
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    expect(stages[1]).toMatch(/COPY --from=build \/app \/app/);
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const path of ['**/node_modules', '.cache', '.git', 'bench/.cache']) expect(ignore, path).toContain(path);
    // every package.json the dependency layer copies exists
    for (const m of dockerfile.matchAll(/^COPY (\S+package\.json) /gm)) expect(existsSync(join(repoRoot, m[1])), m[1]).toBe(true);
  });

  it('the Kubernetes manifests wire distinct probes, resources, a writable checkpoint volume, a pullable image and drainable budgets', () => {
    const docs = parseAllDocuments(readFileSync(join(deploy, 'k8s', 'freshet.yaml'), 'utf8')).map(
      (d) => d.toJSON() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    );
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['freshet-ingest', 'freshet-publisher', 'freshet-serve', 'freshet-trainer']);
    type Pod = {
      securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; fsGroup?: number; seccompProfile?: { type: string } };
      containers: Array<Record<string, unknown>>;
      volumes?: Array<{ name: string; persistentVolumeClaim?: unknown; emptyDir?: unknown; secret?: { secretName: string; optional?: boolean } }>;
    };
    for (const d of deployments) {
      const pod = (d.spec as { template: { spec: Pod } }).template.spec;
      const c = pod.containers[0] as {
        image: string;
        imagePullPolicy: string;
        livenessProbe: { httpGet: { path: string } };
        readinessProbe: { httpGet: { path: string } };
        startupProbe?: { httpGet: { path: string }; failureThreshold: number; periodSeconds: number };
        resources: { requests: Record<string, string> };
        envFrom: unknown[];
        securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
        volumeMounts?: Array<{ name: string; mountPath: string }>;
      };
      // liveness and readiness mean different things: different endpoints
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(c.envFrom.length).toBeGreaterThan(0);
      // a pinned tag and a policy that uses a loaded image (latest would mean Always: ImagePullBackOff)
      expect(c.image).not.toMatch(/:latest$/);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      // the "restricted" Pod Security Standard admits it
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      // a read-only root: /tmp is a volume; the SASL password Secret is mounted (optional: no Secret, no SASL)
      const mounted = new Map((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
      expect(mounted.get('tmp')).toBe('/tmp');
      expect(pod.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
      expect(pod.volumes?.find((v) => v.name === 'kafka-secret')?.secret).toEqual({ secretName: 'freshet-kafka', optional: true });
      expect(mounted.get('kafka-secret')).toBe('/var/run/secrets/freshet-kafka');
      // one version: the image tag is the packages' version
      expect(c.image).toBe(`freshet:${version}`);
      // liveness waits for the process to come up (a slow Kafka start must not kill the pod)
      expect(c.startupProbe?.httpGet.path, d.metadata.name).toBe('/healthz');
      // a pod with a volume makes it writable for the image's user
      if ((pod.volumes ?? []).some((v) => v.persistentVolumeClaim !== undefined)) expect(pod.securityContext?.fsGroup).toBe(pod.securityContext?.runAsUser);
    }
    const trainer = (deployments.find((d) => d.metadata.name === 'freshet-trainer')?.spec as { template: { spec: Pod } }).template.spec.containers[0] as {
      startupProbe?: { failureThreshold: number; periodSeconds: number };
    };
    // restoring a big checkpoint: minutes before liveness applies
    expect((trainer.startupProbe?.failureThreshold ?? 0) * (trainer.startupProbe?.periodSeconds ?? 0)).toBeGreaterThanOrEqual(300);
    const pdbs = docs.filter((d) => d.kind === 'PodDisruptionBudget');
    expect(pdbs.length).toBeGreaterThanOrEqual(1);
    // no budget may forbid every eviction (it would block node drains)
    for (const p of pdbs) expect((p.spec as { maxUnavailable?: number }).maxUnavailable, p.metadata.name).not.toBe(0);
  });
});
