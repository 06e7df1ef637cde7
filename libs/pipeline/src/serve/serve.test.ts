import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, vectorToBytes, type EmbeddingRecord } from '@freshet/avro';
import { createRegistry, waitFor, type Route } from '@freshet/runtime';
import { MemoryTransport } from '@freshet/transport';
import { Codecs, TopicCatalogue } from '../catalogue.js';
import { KafkaSnapshotSink } from '../sinks/kafka-snapshots.js';
import { LanceDbSink } from '../sinks/lancedb.js';
import { manualPublisher, quietLogger } from '../test-support.js';
import { serveRoutes } from './queries.js';
import { ServeProcessor } from './server.js';
import { serveSettings } from './settings.js';

const topics = new TopicCatalogue();

function record(kind: string, id: string, vector: number[], bias = 0): EmbeddingRecord {
  return { kind, id, dim: vector.length, vector: vectorToBytes(Float32Array.from(vector)), version: 1, updatedAt: Date.now(), bias };
}

async function get(routes: Record<string, Route>, path: string, query: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const a = await routes[path](new URLSearchParams(query));
  return { status: a.status, body: a.body as Record<string, unknown> };
}

describe('freshet serve on the in-memory transport, fed by a publisher that writes to Kafka topics and LanceDB', () => {
  it('answers neighbours, labels and vectors with their freshness, follows updates and deletions, and refuses bad queries with a reason', async () => {
    const transport = new MemoryTransport({ partitions: 2 });
    const registry = new LocalSchemaRegistry(topics.schemaTexts());
    const codecs = new Codecs(registry, topics);
    const lancedbUri = join(mkdtempSync(join(tmpdir(), 'freshet-lancedb-')), 'db');
    let producer: Awaited<ReturnType<MemoryTransport['producer']>> | null = null;
    const lance = new LanceDbSink(lancedbUri);
    const publisher = manualPublisher({ transport, registry, topics }, {}, [new KafkaSnapshotSink(() => producer, codecs, 64 * 1024), lance]);
    producer = await transport.producer();
    const updates = async (recs: Array<EmbeddingRecord | { kind: string; id: string }>): Promise<void> => {
      const out = await Promise.all(
        recs.map(async (r) => ({ key: Buffer.from(`${r.kind}:${r.id}`), value: 'vector' in r ? await codecs.modelUpdates().encode(r) : null })),
      );
      await producer?.send(topics.modelUpdates, out);
    };
    await updates([
      record('WORD', 'whale', [1, 0, 0, 0]),
      record('WORD', 'ship', [0.9, 0.1, 0, 0]),
      record('WORD', 'sea', [0.5, 0.5, 0, 0]),
      record('WORD', 'desert', [0, 0, 1, 0]),
      record('IMAGE', 'img-1', [1, 1, 0, 0]),
      record('LABEL', 'sky', [0, 1, 0, 0], 0.5),
      record('LABEL', 'water', [1, 0, 0, 0], 0),
      record('LABEL', 'sand', [0, 0, 1, 0], 2),
    ]);
    await publisher.start();
    await waitFor(() => publisher.pendingChanges === 8, { timeoutMs: 10_000, what: 'the updates read' });
    await publisher.publish();

    const metrics = createRegistry('serve');
    const serve = new ServeProcessor({
      ...serveSettings.with({}),
      indexMetrics: ['cos'],
      transport,
      registry,
      topics,
      groupId: 'serve',
      logger: quietLogger('serve'),
      metrics,
    });
    const routes = serveRoutes(serve, 100);
    await serve.start();
    await waitFor(() => serve.isReady, { timeoutMs: 10_000, what: 'serve caught up' });
    expect(serve.counts()).toEqual({ WORD: 4, IMAGE: 1, LABEL: 3 });

    const near = await get(routes, '/neighbours', { kind: 'WORD', id: 'whale', k: '2' });
    expect(near.status).toBe(200);
    expect((near.body.results as Array<{ id: string }>).map((r) => r.id)).toEqual(['ship', 'sea']);
    expect(near.body.version).toBeGreaterThan(0);
    expect(typeof near.body.eventTimeWatermark).toBe('string');
    expect(near.body.ageSeconds as number).toBeGreaterThanOrEqual(0);
    // by a vector instead of an id
    const byVector = await get(routes, '/neighbours', { kind: 'WORD', vector: '0,0,1,0', k: '1' });
    expect((byVector.body.results as Array<{ id: string }>)[0].id).toBe('desert');
    // labels of an image: image · label + bias (sand: 0 + 2 beats sky: 1 + 0.5 and water: 1)
    const labels = await get(routes, '/labels', { image: 'img-1', k: '3' });
    expect((labels.body.results as Array<{ id: string; score: number }>).map((r) => [r.id, r.score])).toEqual([
      ['sand', 2],
      ['sky', 1.5],
      ['water', 1],
    ]);
    const without = await get(routes, '/labels', { image: 'img-1', k: '3', exclude: 'sand,sky' });
    expect((without.body.results as Array<{ id: string }>).map((r) => r.id)).toEqual(['water']);
    expect((await get(routes, '/vector', { kind: 'LABEL', id: 'sand' })).body).toMatchObject({ vector: [0, 0, 1, 0], bias: 2 });

    // bad queries: 400 with a reason; an unknown entity: 404
    for (const [path, q, reason] of [
      ['/neighbours', { id: 'whale' }, /kind is required/],
      ['/neighbours', { kind: 'WORD', id: 'whale', k: '0' }, /k must be a whole number from 1 to 100/],
      ['/neighbours', { kind: 'WORD', id: 'whale', metric: 'l1' }, /metric must be cos or dot/],
      ['/neighbours', { kind: 'WORD' }, /give either id or vector/],
      ['/neighbours', { kind: 'WORD', vector: '1,2' }, /vector must be 4 finite numbers/],
      ['/labels', {}, /image is required/],
    ] as const) {
      const a = await get(routes, path, q);
      expect([a.status, a.body.error], JSON.stringify(q)).toEqual([400, expect.stringMatching(reason)]);
    }
    expect((await get(routes, '/neighbours', { kind: 'WORD', id: 'kraken' })).status).toBe(404);

    // an update moves a vector; a tombstone deletes an entity: serve and LanceDB follow
    await updates([record('WORD', 'desert', [1, 0.05, 0, 0]), { kind: 'WORD', id: 'ship' }]);
    await waitFor(() => publisher.pendingChanges === 2, { timeoutMs: 10_000, what: 'the update and the deletion read' });
    await publisher.publish();
    await waitFor(async () => (await get(routes, '/neighbours', { kind: 'WORD', id: 'ship' })).status === 404, {
      timeoutMs: 10_000,
      what: 'ship gone from serve',
    });
    const after = await get(routes, '/neighbours', { kind: 'WORD', id: 'whale', k: '2' });
    expect((after.body.results as Array<{ id: string }>).map((r) => r.id)).toEqual(['desert', 'sea']);
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(lancedbUri)).openTable('word');
    const rows = (await table.query().toArray()) as Array<{ id: string; vector: ArrayLike<number> }>;
    expect(rows.map((r) => r.id).sort()).toEqual(['desert', 'sea', 'whale']);
    expect(Array.from(rows.find((r) => r.id === 'desert')?.vector ?? []).map((x) => Math.round(x * 100) / 100)).toEqual([1, 0.05, 0, 0]);
    expect(await metrics.getSingleMetricAsString('freshet_serve_deletes_total')).toMatch(/freshet_serve_deletes_total\{[^}]*kind="WORD"[^}]*\} 1/);

    // a zero-shot label (synthesised from its words) is ranked, marked and counted; a learned row for it takes the mark away
    await updates([{ ...record('LABEL', 'dune', [0, 0, 1, 0], 3), zeroShot: true }]);
    await waitFor(() => publisher.pendingChanges === 1, { timeoutMs: 10_000, what: 'the zero-shot label read' });
    await publisher.publish();
    await waitFor(() => serve.counts().LABEL === 4, { timeoutMs: 10_000, what: 'dune in serve' });
    const withZeroShot = await get(routes, '/labels', { image: 'img-1', k: '2' });
    expect(withZeroShot.body.results).toEqual([
      { id: 'dune', score: 3, zeroShot: true },
      { id: 'sand', score: 2 },
    ]);
    expect(await metrics.getSingleMetricAsString('freshet_serve_zero_shot_labels_served_total')).toMatch(/_total\{[^}]*\} 1$/m);
    expect(await metrics.getSingleMetricAsString('freshet_serve_zero_shot_labels')).toMatch(/_labels\{[^}]*\} 1$/m);
    await updates([record('LABEL', 'dune', [0, 0, 1, 0], 3)]);
    await waitFor(() => publisher.pendingChanges === 1, { timeoutMs: 10_000, what: 'the learned label read' });
    await publisher.publish();
    await waitFor(async () => (await get(routes, '/labels', { image: 'img-1', k: '1' })).body.results !== undefined && !serve.isZeroShot('dune'), {
      timeoutMs: 10_000,
      what: 'dune learned in serve',
    });
    expect((await get(routes, '/labels', { image: 'img-1', k: '1' })).body.results).toEqual([{ id: 'dune', score: 3 }]);
    expect(await metrics.getSingleMetricAsString('freshet_serve_zero_shot_labels')).toMatch(/_labels\{[^}]*\} 0$/m);
    await Promise.all([serve.stop(), publisher.stop()]);
  });
});
