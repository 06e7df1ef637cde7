import { crc32 } from 'node:zlib';
import type { ConsumedRecord } from '@freshet/transport';
import type { PartitionOffset } from './checkpoint-state.js';

/** The fingerprint a checkpoint keeps of the last record applied on a partition: its timestamp and the CRC-32 of its value. */
export function fingerprint(record: ConsumedRecord): { timestamp: number; crc: number } {
  return { timestamp: record.timestamp, crc: record.value === null ? 0 : crc32(record.value) };
}

/**
 * Where the model stands in each training partition: the next offset to apply, and the
 * fingerprint of the last record applied (the checkpoint keeps it, so a restore can tell a
 * replaced log from the one it trained on).
 */
export class Positions {
  /** next offset to apply, per `topic#partition` */
  readonly next = new Map<string, number>();
  private readonly last = new Map<string, { timestamp: number; crc: number }>();

  static key(topic: string, partition: number): string {
    return `${topic}#${partition}`;
  }

  /** Positioned at o (a restore or a seek): its fingerprint is the checkpoint's, if it has one. */
  set(o: PartitionOffset): void {
    const key = Positions.key(o.topic, o.partition);
    this.next.set(key, o.offset);
    if (o.last !== undefined) this.last.set(key, o.last);
    else this.last.delete(key);
  }

  /**
   * The records of a batch the model has not applied yet. A record below the position was applied
   * before a crash (skipped); a batch that starts beyond it (a committed offset ahead of the
   * checkpoint) is refused with the offset to seek back to.
   */
  admit(batch: { topic: string; partition: number; records: readonly ConsumedRecord[] }): { records: readonly ConsumedRecord[]; seekBack: number | null } {
    const next = this.next.get(Positions.key(batch.topic, batch.partition));
    const records = next === undefined ? batch.records : batch.records.filter((r) => r.offset >= next);
    if (next !== undefined && records.length > 0 && records[0].offset > next) return { records: [], seekBack: next };
    return { records, seekBack: null };
  }

  /** A batch of one partition was applied, up to and including its last record. */
  applied(records: readonly ConsumedRecord[]): void {
    const r = records[records.length - 1];
    const key = Positions.key(r.topic, r.partition);
    this.next.set(key, r.offset + 1);
    this.last.set(key, fingerprint(r));
  }

  list(): PartitionOffset[] {
    return [...this.next].map(([key, offset]) => {
      const at = key.lastIndexOf('#');
      const last = this.last.get(key);
      return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset, ...(last !== undefined ? { last } : {}) };
    });
  }
}
