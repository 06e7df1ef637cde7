import { DecodeError, type AvroCodec, type EmbeddingRecord, type EntityKind } from '@freshet/avro';
import type { Transport } from '@freshet/transport';
import { readBatchesToEnd } from '../read-to-end.js';
import { parseEntityKey } from '../sinks/keys.js';
import type { RowChunk, VersionState } from '../sinks/sink.js';
import { KindRows } from './kind-rows.js';

/** An entity by kind and id (what a deletion names). */
export interface EntityRef {
  kind: EntityKind;
  id: string;
}

/**
 * The publisher's state: every entity's latest row by kind (flat arrays, see KindRows), and which
 * entities changed (were updated or deleted) since the last version was cut. A deletion is a
 * tombstone on the model-updates topic (the record's key with no value): the entity leaves the
 * state, and the next version says it is gone (a tombstone on the latest-vector topic, a delete in
 * every sink). The publisher changes it only between versions (never while one is written), so a
 * version reads it in place instead of a copy.
 */
export class EntityState implements VersionState {
  private readonly rows: Map<EntityKind, KindRows>;
  private readonly changed: Map<EntityKind, Set<string>>;
  /** the newest version and event-time high watermark the state has seen */
  version = 0;
  eventTimeHighWatermark = 0;

  constructor(readonly kinds: readonly EntityKind[]) {
    this.rows = new Map(kinds.map((k) => [k, new KindRows(k)]));
    this.changed = new Map(kinds.map((k) => [k, new Set<string>()]));
  }

  /** Entities changed since the last cut. */
  get pending(): number {
    let n = 0;
    for (const ids of this.changed.values()) n += ids.size;
    return n;
  }

  /** One kind's rows (undefined for a kind the catalogue does not name). */
  of(kind: EntityKind): KindRows | undefined {
    return this.rows.get(kind);
  }

  count(kind: EntityKind): number {
    return this.rows.get(kind)?.size ?? 0;
  }

  dim(kind: EntityKind): number {
    return this.rows.get(kind)?.dim ?? 0;
  }

  chunks(kind: EntityKind, perChunk: number): Iterable<RowChunk> {
    return this.rows.get(kind)?.chunks(perChunk) ?? [];
  }

  /** Whether a record can join the state: its kind is ours and its dimension its kind's. */
  fits(record: EmbeddingRecord): boolean {
    return this.rows.get(record.kind)?.fits(record.dim) ?? false;
  }

  /** Takes a record's row (its bytes copied); false when its kind is not ours or its dimension not its kind's. */
  upsert(record: EmbeddingRecord): boolean {
    if (!this.put(record)) return false;
    this.changed.get(record.kind)?.add(record.id);
    return true;
  }

  /** Removes an entity a tombstone names; false when the key names no entity kind of ours. */
  delete(key: string): boolean {
    const k = this.remove(key);
    if (k === null) return false;
    this.changed.get(k.kind)?.add(k.id);
    return true;
  }

  /** Sets a record's row without marking it changed (upsert and restore). */
  private put(record: EmbeddingRecord): boolean {
    const rows = this.rows.get(record.kind);
    if (rows === undefined || !rows.set(record.id, record.vector, record.bias, record.updatedAt, record.zeroShot === true)) return false;
    this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, record.updatedAt);
    return true;
  }

  /** Removes the entity a key names without marking it changed; which one, or null when the key names no kind of ours. */
  private remove(key: string): EntityRef | null {
    const k = parseEntityKey(key);
    const rows = k === null ? undefined : this.rows.get(k.kind);
    if (k === null || rows === undefined) return null;
    rows.delete(k.id);
    return k;
  }

  /** Forgets every change (another instance owns the updates now). */
  dropChanges(): void {
    for (const ids of this.changed.values()) ids.clear();
  }

  /**
   * The changes since the last cut, stamped with `version`, and clears them; `undo` puts them back
   * (a failed write). The records' vectors are views of the state: valid until it next changes.
   */
  take(version: number): { changed: EmbeddingRecord[]; deleted: EntityRef[]; undo: () => void } {
    const taken = [...this.changed].map(([kind, ids]) => [kind, [...ids]] as const);
    this.dropChanges();
    const changed: EmbeddingRecord[] = [];
    const deleted: EntityRef[] = [];
    for (const [kind, ids] of taken) {
      const rows = this.rows.get(kind) as KindRows;
      for (const id of ids) {
        const record = rows.record(id, version);
        if (record !== undefined) changed.push(record);
        else deleted.push({ kind, id });
      }
    }
    return {
      changed,
      deleted,
      undo: () => {
        for (const [kind, ids] of taken) for (const id of ids) this.changed.get(kind)?.add(id);
      },
    };
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.kinds.map((k) => [k, this.count(k)]));
  }

  /**
   * Rebuilds every entity's latest record from the compacted latest-vector topic (as of the last
   * version): upserts in order, a tombstone removes what came before it. A record that cannot be
   * decoded is left out and reported (the trainer's next full publish brings the row back).
   */
  async restore(transport: Transport, topic: string, codec: AvroCodec<EmbeddingRecord>, onUndecodable: (err: DecodeError) => void): Promise<number> {
    for (const rows of this.rows.values()) rows.clear();
    return readBatchesToEnd(transport, topic, async (records) => {
      // decoded a batch at a time (a record at a time, a million-entity topic took half a minute)
      const decoded = await codec.decodeAll(records.map((r) => r.value));
      for (const [j, record] of records.entries()) {
        // health probes answer meanwhile
        if (j > 0 && j % 4096 === 0) await new Promise((r) => setImmediate(r));
        const value = decoded[j];
        if (record.value === null) this.remove(record.key?.toString() ?? '');
        else if (value instanceof DecodeError) onUndecodable(value);
        else if (this.put(value)) this.version = Math.max(this.version, value.version);
      }
    });
  }
}
