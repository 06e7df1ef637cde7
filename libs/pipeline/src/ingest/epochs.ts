import { crc32 } from 'node:zlib';
import type { ConsumedRecord, TopicPartition, TopicPartitionOffset } from '@freshet/transport';

/** How ingest keeps a raw partition's epoch in its group's commit (Kafka's offset metadata). */
const METADATA_PREFIX = 'freshet-epoch=';

/** A new incarnation of a raw partition's log, as ingest found it. */
export interface NewLog {
  topic: string;
  partition: number;
  /** the epoch before (null: none known, e.g. the group's offsets went with a deleted topic) */
  previous: string | null;
  epoch: string;
  /** why: the log went back below where this instance was, or below the group's commit */
  reason: 'went-back' | 'below-commit';
  /** where reading was (or the commit was), and where the new log was met */
  expected: number;
  found: number;
}

/** The epoch a log starts when it is first met: the offset, timestamp and CRC-32 of its first record read, the same for every instance that starts there. */
export function epochOf(r: ConsumedRecord): string {
  return `${r.offset.toString(36)}.${r.timestamp.toString(36)}.${crc32(r.value ?? Buffer.alloc(0)).toString(36)}`;
}

export function epochMetadata(epoch: string): string {
  return `${METADATA_PREFIX}${epoch}`;
}

export function parseEpochMetadata(metadata: string | undefined): string | null {
  return metadata?.startsWith(METADATA_PREFIX) === true && metadata.length > METADATA_PREFIX.length ? metadata.slice(METADATA_PREFIX.length) : null;
}

/**
 * Which incarnation of each raw partition's log ingest is reading: the epoch it stamps on every
 * forwarded event, so the trainer's replay filter never compares offsets of two different logs.
 * Offsets alone cannot tell a replay from a new log: a raw topic deleted and created again (or
 * truncated, or a group's offsets reset by hand) starts its offsets over, and its new events
 * would sit below the old ones' replay marks and be dropped as replays.
 *
 * The epoch travels with the group's commit, so an instance that takes a partition over
 * continues its epoch; a partition the group has no commit for (a new group, or one whose offsets
 * Kafka deleted with their topic) starts the epoch of its first record, which every instance that
 * starts there computes alike (so replays of a crash before the first commit still match). A log
 * that goes back below where this instance was reading, or below the group's commit, is a new
 * one: a new epoch, and `onNewLog` says so; so is a commit without our note (offsets reset by
 * hand). One case cannot be told from a new log: a group whose commits expired (Kafka deletes
 * them after offsets.retention.minutes with no member, 7 days by default) reads the raw log again
 * from its start as a new epoch, and those events are trained again (the README says so).
 */
export class LogEpochs {
  private readonly reading = new Map<string, { epoch: string; next: number }>();

  constructor(
    /** the group's committed offsets of a topic, with their metadata */
    private readonly committed: (topic: string) => Promise<TopicPartitionOffset[]>,
    private readonly onNewLog: (change: NewLog) => void,
  ) {}

  /** After a rebalance: partitions this instance no longer reads are forgotten (another may advance them meanwhile). */
  assigned(partitions: readonly TopicPartition[]): void {
    const kept = new Set(partitions.map((tp) => `${tp.topic}#${tp.partition}`));
    for (const key of this.reading.keys()) if (!kept.has(key)) this.reading.delete(key);
  }

  /** The epoch of a batch's records (a batch of one partition, with at least one record). */
  async of(topic: string, partition: number, first: ConsumedRecord): Promise<string> {
    const key = `${topic}#${partition}`;
    const known = this.reading.get(key);
    if (known !== undefined) {
      // at or past where it was (markers and compaction leave gaps): the same log
      if (first.offset >= known.next) return known.epoch;
      return this.restart(key, {
        topic,
        partition,
        previous: known.epoch,
        epoch: epochOf(first),
        reason: 'went-back',
        expected: known.next,
        found: first.offset,
      });
    }
    const c = (await this.committed(topic)).find((x) => x.partition === partition);
    const inherited = parseEpochMetadata(c?.metadata);
    if (c !== undefined && c.offset >= 0 && first.offset < c.offset) {
      // the client reset a commit past the log's end: the log is not the one the commit was made in
      return this.restart(key, {
        topic,
        partition,
        previous: inherited,
        epoch: epochOf(first),
        reason: 'below-commit',
        expected: c.offset,
        found: first.offset,
      });
    }
    // a commit without our note was made by hand (offsets reset with Kafka's tools) or by an
    // ingest from before epochs: a new epoch, so that events read again after a reset are trained
    // again, as the reset asked (the trainer takes it as the first epoch of marks from before epochs)
    const epoch = inherited ?? (c !== undefined && c.offset >= 0 ? `${epochOf(first)}.reset` : epochOf(first));
    this.reading.set(key, { epoch, next: first.offset });
    return epoch;
  }

  private restart(key: string, change: NewLog): string {
    this.reading.set(key, { epoch: change.epoch, next: change.found });
    this.onNewLog(change);
    return change.epoch;
  }

  /** A batch was forwarded and committed: reading continues at `next`. */
  advanced(topic: string, partition: number, next: number): void {
    const known = this.reading.get(`${topic}#${partition}`);
    if (known !== undefined) known.next = Math.max(known.next, next);
  }

  /** The commit metadata that hands a partition's epoch to the next instance that reads it (none before it was read). */
  metadata(topic: string, partition: number): string | undefined {
    const known = this.reading.get(`${topic}#${partition}`);
    return known === undefined ? undefined : epochMetadata(known.epoch);
  }
}
