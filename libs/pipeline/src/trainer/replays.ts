import type { Counter, Logger } from '@freshet/runtime';
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
  /** the raw log's epoch the offset belongs to (absent: marks and records from before epochs) */
  epoch?: string;
}

/** A raw partition whose log started over, as the trainer met it. */
export interface LogChange {
  /** the training topic and partition the events arrived in */
  topic: string;
  partition: number;
  origin: number;
  previous: string;
  epoch: string;
  /** the highest raw offset applied of the old log, and the first of the new one */
  was: number;
  now: number;
}

/**
 * Drops training records that repeat an event already applied: the copies an ingest instance
 * forwards again when it dies (or loses its partitions) between sending a batch and committing
 * its offsets. Ingest forwards each raw partition in order, and one raw partition's events for a
 * key land in one training partition, so within a training partition the events of one raw
 * partition arrive in raw-offset order, and a replay shows as an origin offset at or below the
 * highest one applied. Offsets are compared only within one epoch of the raw log (ingest stamps
 * it): a raw topic deleted and recreated, truncated, or with its offsets reset starts a new epoch
 * whose offsets begin again, and its events are applied, counted and reported (`onLogChange`),
 * never dropped as replays. (Records from an ingest before epochs fall back on timestamps: an
 * origin below the mark with a later raw timestamp counts as a restart.) The marks go into every
 * checkpoint with the offsets, so the filter and the model agree after a crash: ingest's
 * at-least-once becomes exactly-once in the trained model.
 */
export class ReplayFilter {
  private readonly marksByKey = new Map<string, { offset: number; timestamp: number; epoch?: string }>();
  skipped = 0;
  restarts = 0;

  constructor(private readonly onLogChange: (change: LogChange) => void = () => undefined) {}

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
      const epoch = origin.epoch !== undefined ? { epoch: origin.epoch } : {};
      if (mark !== undefined && origin.epoch !== undefined && mark.epoch !== undefined && origin.epoch !== mark.epoch) {
        // another incarnation of the raw log: its offsets start again, and none of its events was applied
        this.restarts++;
        this.onLogChange({
          topic: r.topic,
          partition: r.partition,
          origin: origin.partition,
          previous: mark.epoch,
          epoch: origin.epoch,
          was: mark.offset,
          now: origin.offset,
        });
        this.marksByKey.set(key, { offset: origin.offset, timestamp: origin.timestamp, ...epoch });
      } else if (mark === undefined || origin.offset > mark.offset) {
        this.marksByKey.set(key, {
          offset: origin.offset,
          timestamp: Math.max(origin.timestamp, mark?.timestamp ?? origin.timestamp),
          ...(epoch.epoch !== undefined ? epoch : mark?.epoch !== undefined ? { epoch: mark.epoch } : {}),
        });
      } else if (origin.epoch !== undefined || origin.timestamp <= mark.timestamp) {
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
    for (const m of marks)
      this.marksByKey.set(`${m.topic}#${m.partition}@${m.origin}`, {
        offset: m.offset,
        timestamp: m.timestamp,
        ...(m.epoch !== undefined ? { epoch: m.epoch } : {}),
      });
  }
}

/** Says a log change: a warning naming the partition and both epochs, and the counter an alert watches. */
export function reportLogChange(c: LogChange, counter: Counter<'topic'>, logger: Logger): void {
  counter.inc({ topic: c.topic });
  logger.warn(
    { ...c },
    `raw partition ${c.origin} behind ${c.topic}#${c.partition} started over (epoch ${c.previous} -> ${c.epoch}; offset ${c.now}, ` +
      `the old log had reached ${c.was}): the raw topic was recreated, truncated or its offsets reset; its events are trained as new, not skipped as replays`,
  );
}
