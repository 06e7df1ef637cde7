import { DecodeError, type AvroCodec, type EmbeddingRecord, type EntityKind } from '@freshet/avro';
import type { Transport } from '@freshet/transport';
import { readToEnd } from '../read-to-end.js';
import { entityKey, parseEntityKey } from '../sinks/keys.js';

/** An entity by kind and id (what a deletion names). */
export interface EntityRef {
  kind: EntityKind;
  id: string;
}

/**
 * The publisher's state: every entity's latest record by kind, and which entities changed (were
 * updated or deleted) since the last version was cut. A deletion is a tombstone on the
 * model-updates topic (the record's key with no value): the entity leaves the state, and the next
 * version says it is gone (a tombstone on the latest-vector topic, a delete in every sink).
 */
export class EntityState {
  readonly byKind: Map<EntityKind, Map<string, EmbeddingRecord>>;
  private readonly changed = new Set<string>();
  /** the newest version and event-time high watermark the state has seen */
  version = 0;
  eventTimeHighWatermark = 0;

  constructor(readonly kinds: readonly EntityKind[]) {
    this.byKind = new Map(kinds.map((k) => [k, new Map()]));
  }

  /** Entities changed since the last cut. */
  get pending(): number {
    return this.changed.size;
  }

  upsert(record: EmbeddingRecord): void {
    this.byKind.get(record.kind)?.set(record.id, record);
    this.changed.add(entityKey(record.kind, record.id));
    this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, record.updatedAt);
  }

  /** Removes an entity a tombstone names; false when the key names no entity kind of ours. */
  delete(key: string): boolean {
    const k = parseEntityKey(key);
    const kind = k === null ? undefined : this.byKind.get(k.kind);
    if (k === null || kind === undefined) return false;
    kind.delete(k.id);
    this.changed.add(key);
    return true;
  }

  /** Forgets every change (another instance owns the updates now). */
  dropChanges(): void {
    this.changed.clear();
  }

  /**
   * Every entity's latest record as of now, by kind: a shallow copy (records are replaced, never
   * changed), so a version written while updates keep arriving holds exactly the state it was cut
   * from, never rows newer than its manifest's update offsets.
   */
  frozen(): Map<EntityKind, Map<string, EmbeddingRecord>> {
    return new Map([...this.byKind].map(([kind, rows]) => [kind, new Map(rows)]));
  }

  /** The changes since the last cut, stamped with `version`, and clears them; `undo` puts them back (a failed write). */
  take(version: number): { changed: EmbeddingRecord[]; deleted: EntityRef[]; undo: () => void } {
    const keys = [...this.changed];
    this.changed.clear();
    const changed: EmbeddingRecord[] = [];
    const deleted: EntityRef[] = [];
    for (const key of keys) {
      const k = parseEntityKey(key);
      if (k === null) continue;
      const record = this.byKind.get(k.kind)?.get(k.id);
      if (record !== undefined) changed.push({ ...record, version });
      else deleted.push(k);
    }
    return {
      changed,
      deleted,
      undo: () => {
        for (const key of keys) this.changed.add(key);
      },
    };
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.kinds.map((k) => [k, this.byKind.get(k)?.size ?? 0]));
  }

  /**
   * Rebuilds every entity's latest record from the compacted latest-vector topic (as of the last
   * version): upserts in order, a tombstone removes what came before it. A record that cannot be
   * decoded is left out and reported (the trainer's next full publish brings the row back).
   */
  async restore(transport: Transport, topic: string, codec: AvroCodec<EmbeddingRecord>, onUndecodable: (err: DecodeError) => void): Promise<number> {
    for (const kind of this.byKind.values()) kind.clear();
    return readToEnd(transport, topic, async (record) => {
      if (record.value === null) {
        const k = parseEntityKey(record.key?.toString() ?? '');
        if (k !== null) this.byKind.get(k.kind)?.delete(k.id);
        return;
      }
      let value: EmbeddingRecord;
      try {
        value = (await codec.decode(record.value)).value;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        onUndecodable(err);
        return;
      }
      this.byKind.get(value.kind)?.set(value.id, value);
      this.version = Math.max(this.version, value.version);
      this.eventTimeHighWatermark = Math.max(this.eventTimeHighWatermark, value.updatedAt);
    });
  }
}
