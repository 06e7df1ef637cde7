import type { EmbeddingRecord, EntityKind } from '@freshet/avro';
import type { RowChunk } from '../sinks/sink.js';

/**
 * One kind's latest rows in flat typed arrays: a slot per entity, a freed slot reused by the next
 * new one. Why not a record object per entity: a decoded vector is a 256-byte slice of a 4 KB
 * buffer pool, and one live slice keeps its whole slab alive, so a map of decoded records held
 * several times the model's bytes and copying it per version dominated the publisher. Every row
 * of a kind has the kind's dimension (set by its first row, free again once it has none).
 */
export class KindRows {
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  /** slots handed out so far (the arrays' used part) */
  private used = 0;
  private capacity = 0;
  private rowBytes = 0;
  private vectors = new Uint8Array(0);
  private biases = new Float32Array(0);
  private updated = new Float64Array(0);
  private synthesised = new Uint8Array(0);
  dim = 0;

  constructor(readonly kind: EntityKind) {}

  get size(): number {
    return this.slots.size;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  ids(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** Whether a row of `dim` components fits this kind (every row shares one dimension). */
  fits(dim: number): boolean {
    return this.slots.size === 0 || dim === this.dim;
  }

  /** Sets an entity's row (copying the vector's bytes); false when its dimension is not the kind's. */
  set(id: string, vector: Uint8Array, bias: number, updatedAt: number, zeroShot: boolean): boolean {
    const dim = vector.length / 4;
    if (!this.fits(dim)) return false;
    if (this.slots.size === 0 && dim !== this.dim) this.reset(dim);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.take();
      this.slots.set(id, slot);
    }
    this.vectors.set(vector, slot * this.rowBytes);
    this.biases[slot] = bias;
    this.updated[slot] = updatedAt;
    this.synthesised[slot] = zeroShot ? 1 : 0;
    return true;
  }

  delete(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.slots.delete(id);
    this.free.push(slot);
    return true;
  }

  /** An entity's vector bytes: a view of the arrays (valid until the next change), not a copy. */
  vectorBytes(id: string): Buffer | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.view(slot);
  }

  /** An entity's vector as floats (a copy). */
  vector(id: string): Float32Array | undefined {
    const bytes = this.vectorBytes(id);
    if (bytes === undefined) return undefined;
    const out = new Float32Array(this.dim);
    for (let d = 0; d < this.dim; d++) out[d] = bytes.readFloatLE(d * 4);
    return out;
  }

  bias(id: string): number | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.biases[slot];
  }

  isZeroShot(id: string): boolean {
    const slot = this.slots.get(id);
    return slot !== undefined && this.synthesised[slot] === 1;
  }

  /** An entity's row as a record stamped with `version` (its vector a view, valid until the next change). */
  record(id: string, version: number): EmbeddingRecord | undefined {
    const slot = this.slots.get(id);
    if (slot === undefined) return undefined;
    return {
      kind: this.kind,
      id,
      dim: this.dim,
      vector: this.view(slot),
      version,
      updatedAt: this.updated[slot],
      bias: this.biases[slot],
      zeroShot: this.synthesised[slot] === 1,
    };
  }

  /** Every row, `perChunk` at a time, copied out (a whole version's chunks). */
  *chunks(perChunk: number): Generator<RowChunk> {
    let ids: string[] = [];
    let slots: number[] = [];
    for (const [id, slot] of this.slots) {
      ids.push(id);
      slots.push(slot);
      if (ids.length === perChunk) {
        yield this.copyOut(ids, slots);
        ids = [];
        slots = [];
      }
    }
    if (ids.length > 0) yield this.copyOut(ids, slots);
  }

  /** The rows in `slots` (of `ids`) copied into one chunk. */
  private copyOut(ids: string[], slots: readonly number[]): RowChunk {
    const vectors = Buffer.allocUnsafe(ids.length * this.rowBytes);
    const biases = new Float32Array(ids.length);
    const zeroShot: string[] = [];
    slots.forEach((slot, j) => {
      vectors.set(this.vectors.subarray(slot * this.rowBytes, (slot + 1) * this.rowBytes), j * this.rowBytes);
      biases[j] = this.biases[slot];
      if (this.synthesised[slot] === 1) zeroShot.push(ids[j]);
    });
    return { ids, vectors, biases, zeroShot };
  }

  /** Forgets every row. */
  clear(): void {
    this.reset(this.dim);
  }

  /** Bytes the arrays hold (for the resident-memory accounting). */
  get bytes(): number {
    return this.vectors.byteLength + this.biases.byteLength + this.updated.byteLength + this.synthesised.byteLength;
  }

  private view(slot: number): Buffer {
    return Buffer.from(this.vectors.buffer, this.vectors.byteOffset + slot * this.rowBytes, this.rowBytes);
  }

  private reset(dim: number): void {
    this.slots.clear();
    this.free.length = 0;
    this.used = 0;
    this.capacity = 0;
    this.dim = dim;
    this.rowBytes = dim * 4;
    this.vectors = new Uint8Array(0);
    this.biases = new Float32Array(0);
    this.updated = new Float64Array(0);
    this.synthesised = new Uint8Array(0);
  }

  /** A never-used slot, growing the arrays by half when they are full. */
  private take(): number {
    if (this.used === this.capacity) {
      const capacity = Math.max(1024, Math.ceil(this.capacity * 1.5));
      this.vectors = grown(this.vectors, new Uint8Array(capacity * this.rowBytes));
      this.biases = grown(this.biases, new Float32Array(capacity));
      this.updated = grown(this.updated, new Float64Array(capacity));
      this.synthesised = grown(this.synthesised, new Uint8Array(capacity));
      this.capacity = capacity;
    }
    return this.used++;
  }
}

function grown<T extends Uint8Array | Float32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
