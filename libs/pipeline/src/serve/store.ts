import { Matrix, nearest } from '@freshet/core';
import { Index, MetricKind, ScalarKind } from 'usearch';

/** How two vectors compare: cosine (neighbours within a kind) or the plain dot product. */
export type Metric = 'cos' | 'dot';
export const METRICS: readonly Metric[] = ['cos', 'dot'];

/** One answer of a query: an entity and its score (higher is closer). */
export interface Scored {
  id: string;
  score: number;
}

export interface StoreOptions {
  /** metrics to keep an approximate index for (above `exactBelow`, a query in another is refused) */
  indexMetrics: readonly Metric[];
  /** below this many vectors a kind is searched exactly (as fast, and the exact answer) */
  exactBelow: number;
  /** HNSW graph degree and the candidate lists when adding and searching */
  connectivity: number;
  /** threads an index add of many vectors may use (a rebuild, a burst of updates) */
  indexThreads: number;
  expansionAdd: number;
  expansionSearch: number;
}

/**
 * The latest vector of every entity of one kind, and an approximate nearest-neighbour index over
 * them (HNSW, usearch) per metric. An entity keeps one slot: its vector and bias live in typed
 * arrays at that slot, and the index knows it by the slot number; an update replaces the slot's
 * entry in the index, a delete frees the slot for the next new entity. Small kinds are searched
 * exactly; the index takes over above `exactBelow` vectors.
 */
export class KindStore {
  private readonly slots = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly vectors: Matrix;
  private biases = new Float32Array(1024);
  /** each slot's norm as float32 (what the snapshot reader's cosine divides by: answers match it exactly) */
  private norms = new Float32Array(1024);
  private readonly free: number[] = [];
  private readonly indexes = new Map<Metric, Index>();

  constructor(
    readonly kind: string,
    readonly dim: number,
    private readonly opts: StoreOptions,
  ) {
    this.vectors = new Matrix(dim, 0, { capacity: 1024 });
    for (const metric of opts.indexMetrics)
      this.indexes.set(
        metric,
        new Index({
          dimensions: dim,
          metric: metric === 'cos' ? MetricKind.Cos : MetricKind.IP,
          quantization: ScalarKind.F32,
          connectivity: opts.connectivity,
          expansion_add: opts.expansionAdd,
          expansion_search: opts.expansionSearch,
          multi: false,
        }),
      );
  }

  get size(): number {
    return this.slots.size;
  }

  /** The entity's vector and bias (null: not held). */
  get(id: string): { vector: Float32Array; bias: number } | null {
    const s = this.slots.get(id);
    return s === undefined ? null : { vector: this.vectors.row(s).slice(), bias: this.biases[s] };
  }

  /**
   * Adds or replaces many entities' vectors: one call into the index for all of them, on
   * `threads` threads (what a rebuild from the topic needs: a million one-by-one adds take minutes).
   * The last of two entries for one id wins.
   */
  upsertMany(entries: ReadonlyArray<{ id: string; vector: Float32Array; bias: number }>, threads: number): void {
    const last = new Map<string, number>();
    entries.forEach((e, j) => last.set(e.id, j));
    const keys = new BigUint64Array(last.size);
    const flat = new Float32Array(last.size * this.dim);
    let k = 0;
    for (const j of last.values()) {
      const { id, vector, bias } = entries[j];
      const s = this.slotFor(id);
      this.write(s, vector, bias);
      keys[k] = BigInt(s);
      flat.set(vector, k * this.dim);
      k++;
    }
    for (const index of this.indexes.values()) if (keys.length > 0) index.add(keys, flat, threads);
  }

  /** The entity's slot, a new one (or a freed one) for a new entity; an existing entry leaves the indexes. */
  private slotFor(id: string): number {
    let s = this.slots.get(id);
    if (s === undefined) {
      s = this.free.pop() ?? this.vectors.addRows(1);
      if (s >= this.biases.length) this.grow();
      this.slots.set(id, s);
      this.names[s] = id;
    } else {
      for (const index of this.indexes.values()) index.remove(BigInt(s));
    }
    return s;
  }

  private write(s: number, vector: Float32Array, bias: number): void {
    this.vectors.data.set(vector, s * this.dim);
    let n = 0;
    for (let f = 0; f < this.dim; f++) n += vector[f] * vector[f];
    this.norms[s] = Math.sqrt(n);
    this.biases[s] = bias;
  }

  /** Adds or replaces an entity's vector. */
  upsert(id: string, vector: Float32Array, bias: number): void {
    const s = this.slotFor(id);
    this.write(s, vector, bias);
    for (const index of this.indexes.values()) index.add(BigInt(s), vector, 1);
  }

  /** Forgets an entity (a tombstone on the latest-vector topic). */
  delete(id: string): boolean {
    const s = this.slots.get(id);
    if (s === undefined) return false;
    for (const index of this.indexes.values()) index.remove(BigInt(s));
    this.slots.delete(id);
    this.names[s] = '';
    this.free.push(s);
    return true;
  }

  /**
   * The k entities closest to `query`, highest score first: cosine similarity, or the dot product
   * (plus the entity's bias with `withBias`: labels for an image), leaving out `exclude`. Exact
   * (the snapshot reader's computation) below `exactBelow` vectors, with biases, or without an
   * index for the metric; otherwise the index, asked for enough candidates to fill k.
   */
  nearest(query: Float32Array, k: number, metric: Metric, options: { exclude?: ReadonlySet<string>; withBias?: boolean } = {}): Scored[] {
    const exclude = options.exclude ?? new Set<string>();
    const withBias = options.withBias === true;
    const index = this.indexes.get(metric);
    if (this.size < this.opts.exactBelow || index === undefined || withBias) {
      const skip = (r: number): boolean => this.names[r] === '' || exclude.has(this.names[r]);
      const hits = nearest(query, this.vectors, k, metric === 'cos' ? this.norms : null, skip, withBias ? this.biases : undefined);
      return hits.map((h) => ({ id: this.names[h.id], score: h.score }));
    }
    const found = index.search(query, Math.min(this.size, k + exclude.size), 1);
    const out: Scored[] = [];
    for (let j = 0; j < found.keys.length && out.length < k; j++) {
      const id = this.names[Number(found.keys[j])];
      if (id === undefined || id === '' || exclude.has(id)) continue;
      // usearch answers distances: 1 - cosine, or 1 - dot product
      out.push({ id, score: 1 - found.distances[j] });
    }
    return out;
  }

  /** Whether the kind keeps an index for `metric` (beyond `exactBelow` vectors, queries in another are refused). */
  indexed(metric: Metric): boolean {
    return this.indexes.has(metric);
  }

  /** Whether a query in `metric` can be answered at this size. */
  answers(metric: Metric): boolean {
    return this.indexes.has(metric) || this.size < this.opts.exactBelow;
  }

  private grow(): void {
    const biases = new Float32Array(this.biases.length * 2);
    biases.set(this.biases);
    this.biases = biases;
    const norms = new Float32Array(this.norms.length * 2);
    norms.set(this.norms);
    this.norms = norms;
  }

  /** Bytes the vectors and their indexes hold, about (for the metrics). */
  bytes(): number {
    let index = 0;
    for (const i of this.indexes.values()) index += i.size() * (this.dim * 4 + this.opts.connectivity * 2 * 8);
    return this.vectors.capacityRows * this.dim * 4 + this.biases.byteLength + this.norms.byteLength + index;
  }
}
