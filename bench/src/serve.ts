/**
 * The query service at scale: how an approximate index answers at 1,000,000 vectors of dimension
 * 64, and how `freshet serve` keeps it fresh from the latest-vector topic on a real broker.
 *
 * Part 1, the index libraries side by side in this process (what chose usearch), each with the
 * same graph settings (16 links, 64 candidates when adding, 128 when searching) and in its fastest
 * way to add (usearch: batches on every core; hnswlib-node: one at a time, its binding has no
 * batch): build rate, query latency (p50/p99, k = 10) while updates keep arriving, recall@10
 * against exact search, and the rate of updates (remove + add). Vectors and queries are a seeded
 * mixture of Gaussian clusters around the same centres, as trained embeddings are.
 * Part 2, `freshet serve` as a process: the latest-vector topic filled with N vectors, serve
 * started and timed until ready (the rebuild after a restart), then updates produced at --rate
 * while queries run: index lag (append to queryable) p50/p99 and query p50/p99 over HTTP.
 *
 *   npm run bench:serve -- [--vectors 1000000] [--dim 64] [--rate 2000] [--seconds 30] [--queries 2000] [--libs usearch,hnswlib-node] [--out FILE]
 *
 * Uses $KAFKA_BROKERS, or starts a local broker from the Maven jars.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LocalSchemaRegistry, vectorToBytes, type AvroCodec, type EmbeddingRecord } from '@freshet/avro';
import { Rng } from '@freshet/core';
import { Codecs, TopicCatalogue } from '@freshet/pipeline';
import { freePort } from '@freshet/runtime';
import { KafkaTransport } from '@freshet/transport';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { benchBroker, repoRoot, scrape } from './lib/services.js';
import { quantile } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2));
const n = numberArg(args, 'vectors', 1_000_000);
const dim = numberArg(args, 'dim', 64);
const rate = numberArg(args, 'rate', 2000);
const seconds = numberArg(args, 'seconds', 30);
const queryCount = numberArg(args, 'queries', 2000);
const libs = (args.get('libs') ?? 'usearch,hnswlib-node').split(',');
const exactQueries = numberArg(args, 'recall-queries', 200);
const k = 10;
const clusters = listArg(args, 'clusters', [1000])[0];

/** The cluster centres every vector and query is drawn around (one seed for all). */
const centres = ((): Float32Array => {
  const rng = new Rng(1);
  const c = new Float32Array(clusters * dim);
  for (let i = 0; i < c.length; i++) c[i] = rng.nextGaussian();
  return c;
})();

/** n vectors around the centres (structure like trained embeddings have); `seed` draws the points. */
function makeVectors(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const c = rng.nextInt(clusters);
    for (let f = 0; f < dim; f++) out[i * dim + f] = centres[c * dim + f] + 0.6 * rng.nextGaussian();
  }
  return out;
}

/** The exact top-k by cosine (brute force), for recall. */
function exactTopK(data: Float32Array, count: number, q: Float32Array): number[] {
  const norms = new Float32Array(count);
  let qn = 0;
  for (let f = 0; f < dim; f++) qn += q[f] * q[f];
  const scored: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    let dot = 0;
    let nn = 0;
    for (let f = 0; f < dim; f++) {
      dot += q[f] * data[i * dim + f];
      nn += data[i * dim + f] * data[i * dim + f];
    }
    norms[i] = nn;
    const s = dot / Math.sqrt(qn * nn);
    if (scored.length < k || s > scored[scored.length - 1][0]) {
      scored.push([s, i]);
      scored.sort((a, b) => b[0] - a[0]);
      if (scored.length > k) scored.pop();
    }
  }
  return scored.map(([, i]) => i);
}

interface LibIndex {
  /** its fastest way to add many: usearch a batch on every core, hnswlib-node one at a time (its binding has no batch) */
  addMany(from: number, to: number, data: Float32Array): void;
  add(key: number, v: Float32Array): void;
  remove(key: number): void;
  search(q: Float32Array, k: number): number[];
}

function makeIndex(lib: string, capacity: number): LibIndex {
  if (lib === 'usearch') {
    const idx = new Index({
      dimensions: dim,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
      connectivity: 16,
      expansion_add: 64,
      expansion_search: 128,
      multi: false,
    });
    return {
      addMany: (from, to, d) => {
        for (let i = from; i < to; i += 256) {
          const end = Math.min(to, i + 256);
          idx.add(
            BigUint64Array.from({ length: end - i }, (_, j) => BigInt(i + j)),
            d.subarray(i * dim, end * dim),
            availableParallelism(),
          );
        }
      },
      add: (key, v) => idx.add(BigInt(key), v, 1),
      remove: (key) => idx.remove(BigInt(key)),
      search: (q, kk) => Array.from(idx.search(q, kk, 1).keys, Number),
    };
  }
  // hnswlib-node: a native addon built at install (node-gyp); measured here beside usearch
  const { HierarchicalNSW } = createRequire(import.meta.url)('hnswlib-node') as {
    HierarchicalNSW: new (
      space: string,
      dim: number,
    ) => {
      initIndex(max: number, m: number, ef: number, seed: number, allowReplace: boolean): void;
      addPoint(v: number[] | Float32Array, label: number, replace: boolean): void;
      markDelete(label: number): void;
      setEf(ef: number): void;
      searchKnn(q: number[] | Float32Array, k: number): { neighbors: number[] };
    };
  };
  const idx = new HierarchicalNSW('cosine', dim);
  idx.initIndex(capacity, 16, 64, 100, true);
  idx.setEf(128);
  return {
    addMany: (from, to, d) => {
      for (let i = from; i < to; i++) idx.addPoint(Array.from(d.subarray(i * dim, (i + 1) * dim)), i, true);
    },
    add: (key, v) => idx.addPoint(Array.from(v), key, true),
    remove: (key) => idx.markDelete(key),
    search: (q, kk) => idx.searchKnn(Array.from(q), kk).neighbors,
  };
}

function libraryRun(lib: string, data: Float32Array, queries: Float32Array, truth: number[][]): Record<string, unknown> {
  const index = makeIndex(lib, n + 1);
  const t0 = performance.now();
  index.addMany(0, n, data);
  const buildSeconds = (performance.now() - t0) / 1000;
  // queries with an update between each (an index that keeps learning), timed apart
  const rng = new Rng(9);
  const latencies: number[] = [];
  let updateMs = 0;
  for (let j = 0; j < queryCount; j++) {
    const key = rng.nextInt(n);
    const u0 = performance.now();
    index.remove(key);
    index.add(key, data.subarray(key * dim, (key + 1) * dim));
    updateMs += performance.now() - u0;
    const q = queries.subarray((j % exactQueries) * dim, ((j % exactQueries) + 1) * dim);
    const s0 = performance.now();
    index.search(q, k);
    latencies.push(performance.now() - s0);
  }
  let hits = 0;
  for (let j = 0; j < exactQueries; j++) {
    const found = new Set(index.search(queries.subarray(j * dim, (j + 1) * dim), k));
    for (const t of truth[j]) if (found.has(t)) hits++;
  }
  return {
    lib,
    buildSeconds,
    addsPerSecond: n / buildSeconds,
    queryP50Ms: quantile(latencies, 0.5),
    queryP99Ms: quantile(latencies, 0.99),
    updatesPerSecond: queryCount / (updateMs / 1000),
    recallAt10: hits / (exactQueries * k),
  };
}

/** Image i's latest-vector record at `version`, keyed as the trainer keys it. */
async function imageRecord(codec: AvroCodec<EmbeddingRecord>, data: Float32Array, i: number, version: number): Promise<{ key: Buffer; value: Buffer }> {
  const value = await codec.encode({
    kind: 'IMAGE',
    id: `img-${i}`,
    dim,
    vector: vectorToBytes(data.subarray(i * dim, (i + 1) * dim)),
    version,
    updatedAt: Date.now(),
    bias: 0,
  });
  return { key: Buffer.from(`IMAGE:img-${i}`), value };
}

/** Updates of random vectors at `rate` per second for `seconds` to the latest-vector topic (run in a process of its own). */
async function produceUpdates(brokers: string, prefix: string, data: Float32Array): Promise<void> {
  const topics = new TopicCatalogue(prefix);
  const codec = new Codecs(new LocalSchemaRegistry(topics.schemaTexts()), topics).latest();
  const producer = await new KafkaTransport({ brokers: brokers.split(','), clientId: 'bench-serve-updates' }).producer();
  const rng = new Rng(11);
  const end = Date.now() + seconds * 1000;
  for (let version = 2; Date.now() < end; version++) {
    const t = Date.now();
    const batch = await Promise.all(Array.from({ length: Math.round(rate / 10) }, () => imageRecord(codec, data, rng.nextInt(n), version)));
    await producer.send(topics.embeddingsLatest, batch);
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
  }
  await producer.close();
}

// the update producer of part 2, as a process of its own (the query client's timings must not include its work)
if (args.get('mode') === 'updates') {
  await produceUpdates(args.get('brokers') ?? '', args.get('prefix') ?? '', makeVectors(n, 1));
  process.exit(0);
}

// part 1: the libraries on the same vectors and queries
const data = makeVectors(n, 1);
const queries = makeVectors(exactQueries, 2);
process.stderr.write(`[serve] exact top-${k} of ${exactQueries} queries over ${n} vectors\n`);
const truth = Array.from({ length: exactQueries }, (_, j) => exactTopK(data, n, queries.subarray(j * dim, (j + 1) * dim)));
const libraries = libs.map((lib) => {
  process.stderr.write(`[serve] ${lib}\n`);
  try {
    return libraryRun(lib, data, queries, truth);
  } catch (err) {
    return { lib, error: String(err) };
  }
});

// part 2: freshet serve as a process, fed from the topic
const broker = await benchBroker();
let service: Record<string, unknown> = {};
try {
  const prefix = `bench-serve-${Date.now()}.`;
  const topics = new TopicCatalogue(prefix);
  const transport = new KafkaTransport({ brokers: broker.brokers.split(','), clientId: 'bench-serve' });
  const admin = await transport.admin();
  await admin.createTopics(topics.specs(4));
  await admin.close();
  const codec = new Codecs(new LocalSchemaRegistry(topics.schemaTexts()), topics).latest();
  const producer = await transport.producer();
  process.stderr.write(`[serve] filling the latest-vector topic with ${n} vectors\n`);
  for (let i = 0; i < n; i += 2000)
    await producer.send(
      topics.embeddingsLatest,
      await Promise.all(Array.from({ length: Math.min(2000, n - i) }, (_, j) => imageRecord(codec, data, i + j, 1))),
    );
  const port = await freePort();
  const t0 = Date.now();
  // --profile-dir DIR: a CPU profile of the serve process (node --cpu-prof)
  const profile = args.get('profile-dir');
  const nodeArgs = profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'services', 'serve', 'dist', 'main.js')], {
    env: { ...process.env, KAFKA_BROKERS: broker.brokers, FRESHET_TOPIC_PREFIX: prefix, FRESHET_HTTP_PORT: String(port), FRESHET_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const rebuildSeconds = (Date.now() - t0) / 1000;
  process.stderr.write(`[serve] ready after ${rebuildSeconds.toFixed(1)} s; updates at ${rate}/s for ${seconds} s with queries\n`);
  // updates at the pipeline's rate, queries over HTTP meanwhile
  const rng = new Rng(12);
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const updater = spawn(
    process.execPath,
    [
      process.argv[1],
      '--mode',
      'updates',
      '--brokers',
      broker.brokers,
      '--prefix',
      prefix,
      '--vectors',
      String(n),
      '--dim',
      String(dim),
      '--rate',
      String(rate),
      '--seconds',
      String(seconds),
    ],
    { stdio: 'ignore' },
  );
  let updatesRunning = true;
  const updating = new Promise((resolve) => updater.once('exit', resolve)).finally(() => (updatesRunning = false));
  // queries for as long as the updates go on (the updater first draws its vectors: a few seconds)
  while (updatesRunning || Date.now() < end) {
    const id = `img-${rng.nextInt(n)}`;
    const s0 = performance.now();
    await fetch(`${url}/neighbours?kind=IMAGE&id=${id}&k=${k}`).then((r) => r.json());
    latencies.push(performance.now() - s0);
  }
  await updating;
  const m = await scrape(port);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const lagBuckets = [...metrics.matchAll(/^freshet_serve_index_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm)].map(
    (x) => [Number(x[1]), Number(x[2])] as const,
  );
  const lagTotal = lagBuckets.find(([le]) => !Number.isFinite(le))?.[1] ?? 0;
  const lagQuantile = (q: number): number | null => lagBuckets.find(([, c]) => c >= q * lagTotal)?.[0] ?? null;
  child.kill('SIGTERM');
  await producer.close();
  service = {
    vectors: n,
    rebuildSeconds,
    updatesPerSecond: rate,
    httpQueries: latencies.length,
    queryP50Ms: quantile(latencies, 0.5),
    queryP99Ms: quantile(latencies, 0.99),
    indexLagUpperBoundP50Seconds: lagQuantile(0.5),
    indexLagUpperBoundP99Seconds: lagQuantile(0.99),
    residentMb: (m.get('process_resident_memory_bytes') ?? NaN) / 2 ** 20,
  };
} finally {
  await broker.stop();
}

const chosen = libraries.find((l) => l.lib === 'usearch') as Record<string, number> | undefined;
emitResult(
  {
    benchmark: 'serve',
    vectors: n,
    dim,
    k,
    clusters,
    libraries,
    service,
    queryP99Ms: chosen?.queryP99Ms ?? null,
    recallAt10: chosen?.recallAt10 ?? null,
    indexLagP99Ms: typeof service.indexLagUpperBoundP99Seconds === 'number' ? service.indexLagUpperBoundP99Seconds * 1000 : null,
    rebuildSeconds: service.rebuildSeconds ?? null,
    environment: runEnvironment(),
  },
  args.get('out'),
);
process.exit(0);
