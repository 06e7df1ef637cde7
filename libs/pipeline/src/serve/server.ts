import { randomUUID } from 'node:crypto';
import { bytesToVector, DecodeError, type AvroCodec, type EmbeddingRecord } from '@freshet/avro';
import { Counter, Gauge, Histogram, type RouteAnswer } from '@freshet/runtime';
import type { Batch, Consumer, ConsumerState } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { LagMonitor } from '../lag.js';
import { parseEntityKey } from '../sinks/keys.js';
import type { ProcessorWiring } from '../wiring.js';
import { KindStore, type StoreOptions } from './store.js';

/**
 * Upserts added to the index in one call: once ready, small enough that a query waits a few
 * milliseconds at most; while catching up (no queries routed here yet), large, for the threads.
 */
const SLICE = 16;
const CATCH_UP_SLICE = 4096;

export interface ServeOptions extends ProcessorWiring, StoreOptions {
  /** the largest k a query may ask for */
  maxK: number;
}

/** What every answer carries: how fresh the model it comes from is. */
export interface Freshness {
  /** the newest model version applied */
  version: number;
  /** the event-time high watermark of the newest vector applied (ISO time; null before any) */
  eventTimeWatermark: string | null;
  /** seconds from that watermark to now */
  ageSeconds: number | null;
}

/**
 * A query service kept fresh from the compacted latest-vector topic, which is an upsert stream
 * (every entity's latest vector, a tombstone for one that was deleted): every instance reads it
 * whole from the start (a group of its own, nothing committed), so a restart rebuilds the state,
 * and is ready once it has caught up with the ends the topic had when it started. Each kind
 * keeps its vectors and an approximate nearest-neighbour index (store.ts).
 */
export class ServeProcessor {
  private readonly stores = new Map<string, KindStore>();
  private consumer: Consumer | null = null;
  private lag: LagMonitor | null = null;
  private readonly codec: AvroCodec<EmbeddingRecord>;
  private readonly positions = new Map<string, number>();
  /** end offsets at start: ready once every partition has been read past them */
  private catchUp: Map<number, number> | null = null;
  private running = false;
  private version = 0;
  private watermark = 0;
  private readonly m: ReturnType<typeof serveMetrics>;
  /** the LABEL ids held whose latest record is a zero-shot one */
  private readonly zeroShot = new Set<string>();

  constructor(private readonly opts: ServeOptions) {
    this.codec = new Codecs(opts.registry, opts.topics).latest();
    this.m = serveMetrics(opts);
    // the series alerts and dashboards read exist from the start (0, not absent)
    for (const route of ['neighbours', 'labels', 'vector']) {
      for (const status of ['200', '400', '404', '500']) this.m.queries.inc({ route, status }, 0);
      this.m.querySeconds.zero({ route });
    }
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Ready: caught up with the topic as it was at start (answers before that would be stale). */
  get isReady(): boolean {
    return this.running && this.catchUp !== null && this.catchUp.size === 0;
  }

  /** Next offset to read per partition of the latest-vector topic (`topic#partition`): what it has applied. */
  get consumed(): ReadonlyMap<string, number> {
    return this.positions;
  }

  consumerState(): ConsumerState | null {
    return this.consumer?.state() ?? null;
  }

  async start(): Promise<void> {
    const topic = this.opts.topics.embeddingsLatest;
    const admin = await this.opts.transport.admin();
    this.catchUp = new Map((await admin.endOffsets(topic)).filter((e) => e.offset > 0).map((e) => [e.partition, e.offset]));
    await admin.close();
    this.consumer = await this.opts.transport.consumer({ groupId: `${this.opts.groupId}-${randomUUID()}`, topics: [topic], fromBeginning: true });
    this.running = true;
    this.lag = new LagMonitor({
      transport: this.opts.transport,
      topics: [topic],
      positions: () => this.positions,
      registry: this.opts.metrics,
      owned: () => this.consumer?.assignment() ?? [],
    });
    await this.lag.start();
    void this.consumer
      .run((b) => this.handle(b))
      .catch((err: unknown) => {
        this.running = false;
        this.opts.onFatal?.(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /**
   * Applies a batch in order: runs of upserts go into the index together, a slice at a time (one
   * multi-threaded add each), and the event loop answers queries and probes between slices.
   */
  private async handle(batch: Batch): Promise<void> {
    let run: Array<{ kind: string; dim: number; id: string; vector: Float32Array; bias: number; timestamp: number }> = [];
    const flush = async (): Promise<void> => {
      const size = this.isReady ? SLICE : CATCH_UP_SLICE;
      for (let from = 0; from < run.length; from += size) {
        const slice = run.slice(from, from + size);
        const byKind = new Map<string, typeof slice>();
        for (const e of slice) (byKind.get(e.kind) ?? byKind.set(e.kind, []).get(e.kind))?.push(e);
        for (const [kind, entries] of byKind) {
          this.storeOf(kind, entries[0].dim).upsertMany(entries, this.opts.indexThreads);
          this.m.upserts.inc({ kind }, entries.length);
        }
        // from the record's append to the topic to its being queryable here
        if (this.isReady) for (const e of slice) this.m.indexLag.observe(Math.max(0, Date.now() - e.timestamp) / 1000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      run = [];
    };
    for (const [j, r] of batch.records.entries()) {
      // decoding a big batch must not hold queries either
      if (this.isReady && j > 0 && j % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const key = parseEntityKey(r.key?.toString() ?? '');
      if (key === null) {
        this.m.skipped.inc({ reason: 'bad-key' });
        continue;
      }
      if (r.value === null) {
        // a deletion after upserts of the same batch: the upserts go in first
        await flush();
        if (key.kind === 'LABEL') this.markZeroShot(key.id, false);
        if (this.stores.get(key.kind)?.delete(key.id) === true) this.m.deletes.inc({ kind: key.kind });
        continue;
      }
      let rec: EmbeddingRecord;
      try {
        rec = (await this.codec.decode(r.value)).value;
      } catch (err) {
        // an undecodable record is passed over (the publisher dead-letters what it cannot publish)
        if (!(err instanceof DecodeError)) throw err;
        this.m.skipped.inc({ reason: 'undecodable' });
        continue;
      }
      const vector = bytesToVector(rec.vector, rec.dim);
      if (!vector.every(Number.isFinite)) {
        this.m.skipped.inc({ reason: 'non-finite' });
        continue;
      }
      // a dimension change within a run: the run before it goes in first
      if (run.length > 0 && run[run.length - 1].kind === rec.kind && run[run.length - 1].dim !== rec.dim) await flush();
      run.push({ kind: rec.kind, dim: rec.dim, id: rec.id, vector, bias: rec.bias, timestamp: r.timestamp });
      // a learned row replaces a zero-shot one under the same key: the mark goes with it
      if (rec.kind === 'LABEL') this.markZeroShot(rec.id, rec.zeroShot === true);
      this.version = Math.max(this.version, rec.version);
      this.watermark = Math.max(this.watermark, rec.updatedAt);
    }
    await flush();
    this.positions.set(`${batch.topic}#${batch.partition}`, batch.nextOffset);
    const end = this.catchUp?.get(batch.partition);
    if (end !== undefined && batch.nextOffset >= end) this.catchUp?.delete(batch.partition);
    for (const [kind, store] of this.stores) this.m.vectors.set({ kind }, store.size);
  }

  /** The gauge moves with the set (not at the end of the batch), so a scrape never contradicts an answer. */
  private markZeroShot(label: string, zeroShot: boolean): void {
    if (zeroShot) this.zeroShot.add(label);
    else this.zeroShot.delete(label);
    this.m.zeroShotHeld.set(this.zeroShot.size);
  }

  /** Whether a label held is a zero-shot one (synthesised from its words). */
  isZeroShot(label: string): boolean {
    return this.zeroShot.has(label);
  }

  /** Counts the zero-shot labels of an answer (the annotation metrics say how many are served). */
  servedZeroShot(count: number): void {
    if (count > 0) this.m.zeroShotServed.inc(count);
  }

  private storeOf(kind: string, dim: number): KindStore {
    let s = this.stores.get(kind);
    if (s === undefined || s.dim !== dim) {
      // a new dimension is a new model: the old vectors cannot be compared with it
      s = new KindStore(kind, dim, this.opts);
      this.stores.set(kind, s);
    }
    return s;
  }

  freshness(): Freshness {
    return {
      version: this.version,
      eventTimeWatermark: this.watermark > 0 ? new Date(this.watermark).toISOString() : null,
      ageSeconds: this.watermark > 0 ? (Date.now() - this.watermark) / 1000 : null,
    };
  }

  /** The kinds held and how many vectors each. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.stores].map(([k, s]) => [k, s.size]));
  }

  store(kind: string): KindStore | undefined {
    return this.stores.get(kind);
  }

  /** Times a query and counts it by route and status. */
  timed(route: string, answer: () => RouteAnswer): RouteAnswer {
    const t0 = performance.now();
    const a = answer();
    this.m.queries.inc({ route, status: String(a.status) });
    this.m.querySeconds.observe({ route }, (performance.now() - t0) / 1000);
    return a;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.lag?.stop();
    await this.consumer?.close();
  }
}

function serveMetrics(opts: ServeOptions) {
  const registers = [opts.metrics];
  return {
    upserts: new Counter({
      name: 'freshet_serve_upserts_total',
      help: 'Vectors added or replaced from the latest-vector topic.',
      labelNames: ['kind'],
      registers,
    }),
    deletes: new Counter({
      name: 'freshet_serve_deletes_total',
      help: 'Entities removed by a tombstone on the latest-vector topic.',
      labelNames: ['kind'],
      registers,
    }),
    skipped: new Counter({
      name: 'freshet_serve_skipped_records_total',
      help: 'Records of the latest-vector topic passed over (a key that names no entity, an undecodable value, a non-finite vector).',
      labelNames: ['reason'],
      registers,
    }),
    vectors: new Gauge({ name: 'freshet_serve_vectors', help: 'Vectors held and indexed, per kind.', labelNames: ['kind'], registers }),
    zeroShotHeld: new Gauge({
      name: 'freshet_serve_zero_shot_labels',
      help: 'Zero-shot labels held: labels no image event has carried, synthesised from their words by the publisher.',
      registers,
    }),
    zeroShotServed: new Counter({
      name: 'freshet_serve_zero_shot_labels_served_total',
      help: 'Zero-shot labels among the labels /labels answered with (each one in each answer).',
      registers,
    }),
    queries: new Counter({
      name: 'freshet_serve_queries_total',
      help: 'Queries answered, by route and HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    }),
    querySeconds: new Histogram({
      name: 'freshet_serve_query_duration_seconds',
      help: 'Time to answer one query.',
      labelNames: ['route'],
      buckets: [0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01, 0.03, 0.1, 0.3, 1],
      registers,
    }),
    indexLag: new Histogram({
      name: 'freshet_serve_index_lag_seconds',
      help: 'From a vector appended to the latest-vector topic to it being queryable here.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
  };
}
