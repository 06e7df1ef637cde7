import type { ConsumedRecord } from '@freshet/transport';
import { ORIGIN_HEADER, parseOrigin } from '../origin.js';

/** One (training partition, raw partition) pair's replay mark: saved in checkpoints. */
export interface OriginMark {
  topic: string;
  partition: number;
  origin: number;
  /** highest raw offset applied */
  offset: number;
  /** latest raw timestamp applied (ms) */
  timestamp: number;
}

/**
 * Drops training records that repeat an event already applied: the copies an ingest instance
 * forwards again when it dies (or loses its partitions) between sending a batch and committing
 * its offsets. Ingest forwards each raw partition in order, and one raw partition's events for a
 * key land in one training partition, so within a training partition the events of one raw
 * partition arrive in raw-offset order, and a replay shows as an origin offset at or below the
 * highest one applied. Its raw timestamp is the original's, so it is also at or below the latest
 * timestamp applied; an origin below the mark with a later timestamp is a raw topic that was
 * deleted and recreated (offsets restart), applied and counted as a restart. The marks go into
 * every checkpoint with the offsets, so the filter and the model agree after a crash: ingest's
 * at-least-once becomes exactly-once in the trained model.
 */
export class ReplayFilter {
  private readonly marksByKey = new Map<string, { offset: number; timestamp: number }>();
  skipped = 0;
  restarts = 0;

  /** The records of one training partition's batch that are not replays; marks them applied. */
  admit(records: readonly ConsumedRecord[]): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const r of records) {
      const origin = parseOrigin(r.headers[ORIGIN_HEADER]);
      if (origin === null) {
        out.push(r);
        continue;
      }
      const key = `${r.topic}#${r.partition}@${origin.partition}`;
      const mark = this.marksByKey.get(key);
      if (mark === undefined || origin.offset > mark.offset) {
        this.marksByKey.set(key, { offset: origin.offset, timestamp: Math.max(origin.timestamp, mark?.timestamp ?? origin.timestamp) });
      } else if (origin.timestamp <= mark.timestamp) {
        this.skipped++;
        continue;
      } else {
        this.restarts++;
        this.marksByKey.set(key, { offset: origin.offset, timestamp: origin.timestamp });
      }
      out.push(r);
    }
    return out;
  }

  marks(): OriginMark[] {
    return [...this.marksByKey].map(([key, m]) => {
      const hash = key.lastIndexOf('#');
      const at = key.lastIndexOf('@');
      return { topic: key.slice(0, hash), partition: Number(key.slice(hash + 1, at)), origin: Number(key.slice(at + 1)), ...m };
    });
  }

  /** Back to a checkpoint's marks (none: forget everything, as when the model starts empty). */
  restore(marks: readonly OriginMark[]): void {
    this.marksByKey.clear();
    for (const m of marks) this.marksByKey.set(`${m.topic}#${m.partition}@${m.origin}`, { offset: m.offset, timestamp: m.timestamp });
  }
}
