import { randomUUID } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { Rng, leaveOneOut } from '@freshet/core';
import { loadCorpusSentences, readImageLabelFile, dataFile } from '@freshet/datasets';
import { TopicCatalogue, toWindows } from '@freshet/pipeline';
import { waitFor } from '@freshet/runtime';
import { KafkaTransport } from '@freshet/transport';
import { everythingApplied, freePort, health, repoRoot, startService, stopService, type RunningService, feedData } from './services.js';
import { alertQueries, dashboardQueries, exposedNames, queriedNames, SCRAPE_SERIES } from './metric-names.js';

const brokers = inject('kafkaBrokers');

/** Decodes a Confluent-framed Avro value with nothing but an .avsc file, as a Java or Python consumer would. */
function avscType(file: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(readFileSync(join(repoRoot, 'schemas', file), 'utf8')) as avro.Schema);
}

describe('the pipeline as separate processes on a real Kafka broker', () => {
  const services: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s)));
  });

  it('feeds events, trains, publishes snapshots that .avsc files alone decode, and Prometheus scrapes every service', { timeout: 300_000 }, async () => {
    const prefix = `it-${randomUUID().slice(0, 8)}.`;
    const env = { KAFKA_BROKERS: brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_PARTITIONS: '2' };
    const checkpoints = mkdtempSync(join(tmpdir(), 'freshet-it-'));
    services.push(await startService('ingest', env));
    const trainer = await startService('trainer', {
      ...env,
      FRESHET_CHECKPOINT_DIR: checkpoints,
      FRESHET_CHECKPOINT_EVERY_MS: '2000',
      FRESHET_IMAGE_DIM: '32',
      FRESHET_WORD_DIM: '32',
    });
    services.push(trainer);
    services.push(await startService('publisher', { ...env, FRESHET_PUBLISH_EVERY_MS: '3000' }));
    services.push(await startService('serve', env));

    // feed: MIRFLICKR training images (one label held out) and Moby Dick windows
    const split = leaveOneOut(readImageLabelFile(dataFile('mirflickr25k', 'train.tsv')), new Rng(7));
    const windows = toWindows('moby', loadCorpusSentences(['moby-dick']), 24).slice(0, 3000);
    const topics = new TopicCatalogue(prefix);
    const transport = new KafkaTransport({ brokers: brokers.split(','), clientId: 'it-feeder' });
    const fed = await feedData(transport, new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)), topics, {
      images: split.train,
      windows,
      rate: 0,
      batch: 200,
    });
    expect(fed.sent).toBe(split.train.length + windows.length);

    // a downstream consumer with only the .avsc files: assemble the newest complete version
    const chunkType = avscType('snapshot-chunk.v4.avsc');
    const manifestType = avscType('snapshot-manifest.v4.avsc');
    const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'it-reader', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `reader-${prefix}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.snapshots, fromBeginning: true });
    type Chunk = { kind: string; dim: number; ids: string[]; vectors: Buffer; biases: Buffer; deleted: string[] };
    const chunks = new Map<number, Map<number, Chunk>>();
    let complete: { version: number; counts: Record<string, number>; tables: Map<string, Map<string, Float32Array>>; biases: Map<string, number> } | null =
      null;
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value;
        if (!value || value[0] !== 0) return;
        const body = value.subarray(5);
        const key = message.key?.toString();
        if (key === 'manifest' || key === 'delta') {
          const m = manifestType.fromBuffer(body) as {
            version: number;
            chunks: number;
            counts: Record<string, number>;
            base: number;
            chain: Array<{ version: number }>;
          };
          const got = chunks.get(m.version);
          if (!got || got.size !== m.chunks) return;
          // a whole version starts from nothing; a delta applies to the version before it (held here, read from the start)
          const previous = m.chain[m.chain.length - 1]?.version;
          if (key === 'delta' && complete?.version !== previous) return;
          const tables = key === 'delta' && complete ? complete.tables : new Map<string, Map<string, Float32Array>>();
          const biases = key === 'delta' && complete ? complete.biases : new Map<string, number>();
          for (const c of got.values()) {
            const t = tables.get(c.kind) ?? new Map<string, Float32Array>();
            c.ids.forEach((id, i) => t.set(id, new Float32Array(new Uint8Array(c.vectors.subarray(i * c.dim * 4, (i + 1) * c.dim * 4)).buffer)));
            for (const id of c.deleted) t.delete(id);
            // label chunks carry one float32 bias per label (the score is image · label + bias)
            if (c.biases.length === c.ids.length * 4) c.ids.forEach((id, i) => biases.set(id, c.biases.readFloatLE(i * 4)));
            tables.set(c.kind, t);
          }
          if (!complete || m.version > complete.version) complete = { version: m.version, counts: m.counts, tables, biases };
        } else {
          const c = chunkType.fromBuffer(body) as Chunk & { version: number; chunk: number };
          const map = chunks.get(c.version) ?? new Map();
          map.set(c.chunk, c);
          chunks.set(c.version, map);
        }
      },
    });
    // rows are published every second while the stream is applied, so early snapshots hold part
    // of it: wait until the trainer has applied everything, then for the snapshot that holds it all
    await everythingApplied(trainer, 'the stream');
    const words = (await health<{ words: number }>(trainer)).words;
    const target = split.train.length;
    const counts = (): Record<string, number> => (complete as { counts: Record<string, number> } | null)?.counts ?? {};
    await waitFor(() => (counts().IMAGE ?? 0) >= target && (counts().WORD ?? 0) >= words, {
      timeoutMs: 120_000,
      what: 'a snapshot holding every image and word',
      intervalMs: 500,
    });
    await consumer.disconnect();
    const snapshot = complete as {
      version: number;
      counts: Record<string, number>;
      tables: Map<string, Map<string, Float32Array>>;
      biases: Map<string, number>;
    } | null;
    expect(snapshot?.counts.IMAGE).toBe(target);
    expect(snapshot?.counts.LABEL).toBe(38);
    expect(snapshot?.counts.WORD ?? 0).toBeGreaterThan(3000);

    // quality from the published vectors: held-out P@5 far above chance (5/38/5 = 0.026)
    const images = snapshot?.tables.get('IMAGE') ?? new Map<string, Float32Array>();
    const labels = [...(snapshot?.tables.get('LABEL') ?? new Map<string, Float32Array>())];
    const trainLabels = new Map(split.train.map((i) => [i.id, new Set(i.labels)]));
    let hits = 0;
    for (const t of split.test) {
      const u = images.get(t.id);
      if (!u) continue;
      const score = (name: string, v: Float32Array): number => v.reduce((s, x, f) => s + x * u[f], snapshot?.biases.get(name) ?? 0);
      const target = labels.find(([name]) => name === t.label);
      if (!target) continue;
      const s = score(target[0], target[1]);
      const above = labels.filter(([name, v]) => name !== t.label && !trainLabels.get(t.id)?.has(name) && score(name, v) > s).length;
      if (above < 5) hits++;
    }
    const p5 = hits / 5 / split.test.length;
    expect(p5).toBeGreaterThan(0.08);

    // a real Prometheus scrapes every service
    const promPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'freshet-prom-'));
    // one job per service, named as deploy/prometheus expects, evaluating the real alert rules every second
    const jobs = services.map((s) => `  - job_name: freshet-${s.name}\n    static_configs:\n      - targets: ['127.0.0.1:${s.port}']\n`).join('');
    const rules = join(repoRoot, 'deploy', 'prometheus', 'alerts.yml');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${rules}\nscrape_configs:\n${jobs}`,
    );
    const prom = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: 'ignore' },
    );
    try {
      const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
        const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = (await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        return body.data.result;
      };
      let up: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
      const everyTargetUp = async (): Promise<boolean> => {
        try {
          up = await query('up == 1');
          return up.length === services.length;
        } catch {
          return false; // prometheus still starting
        }
      };
      await waitFor(everyTargetUp, { timeoutMs: 60_000, what: 'Prometheus to scrape every service', intervalMs: 500 });
      expect(up.map((r) => r.metric.instance).sort()).toEqual(services.map((s) => `127.0.0.1:${s.port}`).sort());
      expect((await query('sum(freshet_ingest_records_total)'))[0]?.value[1]).toBe(String(split.train.length + windows.length));
      expect(Number((await query('sum(freshet_trainer_sgd_updates_total)'))[0]?.value[1])).toBeGreaterThan(0);
      expect(Number((await query('max(freshet_snapshot_version)'))[0]?.value[1])).toBeGreaterThan(0);

      // every metric the dashboard and the alert rules query is exposed by a live service, and
      // every service's exposition passes promtool's lint
      const exposed = new Set<string>();
      for (const s of services) {
        const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
        for (const n of exposedNames(text)) exposed.add(n);
        const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(lint.status, `${s.name}: ${lint.stdout}${lint.stderr}`).toBe(0);
      }
      for (const q of [...dashboardQueries(), ...alertQueries()]) {
        for (const name of queriedNames(q).filter((n) => !SCRAPE_SERIES.has(n))) expect(exposed.has(name), `${name} (in ${q})`).toBe(true);
      }

      // a service that stops answering: its alert fires from the real rules within two minutes
      const publisher = services.find((s) => s.name === 'publisher') as RunningService;
      const killedAt = Date.now();
      await stopService(publisher, 'SIGKILL');
      const firing = async (): Promise<boolean> =>
        (await query('ALERTS{alertname="FreshetTargetDown",alertstate="firing",job="freshet-publisher"}')).length === 1;
      await waitFor(firing, { timeoutMs: 120_000, what: 'FreshetTargetDown to fire for the killed publisher', intervalMs: 1000 });
      expect(Date.now() - killedAt).toBeLessThan(120_000);
    } finally {
      prom.kill('SIGTERM');
    }
  });
});
