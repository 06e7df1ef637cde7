import type { Admin, ConsumedRecord } from '@freshet/transport';
import type { CheckpointHeader, PartitionOffset } from './checkpoint-state.js';
import { fingerprint } from './positions.js';
import type { StaleCheckpointPolicy } from './policies.js';

export { staleCheckpointPolicies, type StaleCheckpointPolicy } from './policies.js';

export interface StaleOffset extends PartitionOffset {
  reason: 'other-cluster' | 'beyond-log-end' | 'below-log-start' | 'log-replaced';
  /** the log's earliest and next offsets now */
  start: number;
  end: number;
}

/** Reads the records at the given offsets (one per partition) back from the log; missing ones are absent. */
export type RecordReader = (positions: readonly PartitionOffset[]) => Promise<ConsumedRecord[]>;

/**
 * Compares a checkpoint's offsets with the log: an offset past the log's end means the log was
 * wiped or the topic recreated (resuming would skip everything written since); one below the
 * log's start means records were deleted by retention before they were trained on; another
 * cluster id means the offsets are another log's altogether; and a record below an offset that
 * is not the one trained on (its timestamp and CRC-32 read back) means the log was replaced.
 */
export async function findStaleOffsets(header: CheckpointHeader, admin: Admin, topics: readonly string[], readAt?: RecordReader): Promise<StaleOffset[]> {
  const clusterId = await admin.clusterId();
  const otherCluster = header.clusterId !== '' && header.clusterId !== clusterId;
  const bounds = new Map<string, { start: number; end: number }>();
  for (const topic of topics) {
    const starts = new Map((await admin.startOffsets(topic)).map((o) => [o.partition, o.offset]));
    for (const e of await admin.endOffsets(topic)) bounds.set(`${topic}#${e.partition}`, { start: starts.get(e.partition) ?? 0, end: e.offset });
  }
  const stale: StaleOffset[] = [];
  const inLog: PartitionOffset[] = [];
  for (const o of header.offsets.filter((x) => topics.includes(x.topic))) {
    const { start, end } = bounds.get(`${o.topic}#${o.partition}`) ?? { start: 0, end: 0 };
    const reason = otherCluster ? 'other-cluster' : o.offset > end ? 'beyond-log-end' : o.offset < start ? 'below-log-start' : null;
    if (reason !== null) stale.push({ ...o, reason, start, end });
    else if (o.last !== undefined && o.offset - 1 >= start) inLog.push(o);
  }
  // offsets inside the log: is the record below each one still the record that was applied?
  if (readAt !== undefined && inLog.length > 0) {
    const found = new Map((await readAt(inLog.map((o) => ({ ...o, offset: o.offset - 1 })))).map((r) => [`${r.topic}#${r.partition}`, r]));
    for (const o of inLog) {
      const r = found.get(`${o.topic}#${o.partition}`);
      const now = r === undefined ? null : fingerprint(r);
      if (now === null || now.timestamp !== o.last?.timestamp || now.crc !== o.last?.crc) {
        stale.push({ ...o, reason: 'log-replaced', ...(bounds.get(`${o.topic}#${o.partition}`) ?? { start: 0, end: 0 }) });
      }
    }
  }
  return stale;
}

/** The message that stops a trainer on a stale checkpoint, with what to do. */
export function staleMessage(path: string, stale: readonly StaleOffset[]): string {
  const first = stale[0];
  const what =
    first.reason === 'other-cluster'
      ? 'it was written against another Kafka cluster'
      : first.reason === 'beyond-log-end'
        ? `its offset ${first.offset} for ${first.topic}#${first.partition} is past the log's end (${first.end}): the topic was recreated or the broker's data wiped`
        : first.reason === 'log-replaced'
          ? `the record it last trained on, just below offset ${first.offset} of ${first.topic}#${first.partition}, is not in this log: the broker's data was wiped or the topic recreated`
          : `its offset ${first.offset} for ${first.topic}#${first.partition} is below the log's start (${first.start}): retention deleted records it never trained on`;
  return (
    `checkpoint ${path} does not belong to this log (${stale.length} partition(s)): ${what}. ` +
    'To start fresh run `freshet reset` (removes checkpoints and group offsets); to keep the model and read the log from its start, ' +
    'set --on-stale-checkpoint reset-to-checkpoint; to drop the model and train from the earliest offsets, set --on-stale-checkpoint reset-to-earliest.'
  );
}

/**
 * The offsets to resume from under reset-to-checkpoint: the model is kept, and every stale
 * partition is read from the log's start (its offsets mean nothing in this log).
 */
export function resumeOffsets(header: CheckpointHeader, stale: readonly StaleOffset[]): PartitionOffset[] {
  const reset = new Map(stale.map((s) => [`${s.topic}#${s.partition}`, s.start]));
  return header.offsets.map((o) => {
    const start = reset.get(`${o.topic}#${o.partition}`);
    // a reset partition's last record belongs to the old log: no fingerprint until one is applied
    return start === undefined ? o : { topic: o.topic, partition: o.partition, offset: start };
  });
}

/** Where to resume, and whether the checkpoint's model goes with it. */
export interface ResumePlan {
  offsets: PartitionOffset[];
  keepModel: boolean;
  stale: StaleOffset[];
}

/**
 * Checks a checkpoint against the log and applies the stale-checkpoint policy: `fail` throws
 * with the message that says what to do; `reset-to-checkpoint` keeps the model and reads stale
 * partitions from their start; `reset-to-earliest` drops the model and reads every partition
 * from its start. A stale checkpoint's replay marks are cleared either way (the raw log may be
 * gone too: an event must never be skipped on marks from an old log).
 */
export async function planResume(
  header: CheckpointHeader,
  admin: Admin,
  topics: readonly string[],
  policy: StaleCheckpointPolicy,
  path: string,
  onStale: (stale: StaleOffset[]) => void,
  readAt?: RecordReader,
): Promise<ResumePlan> {
  const stale = await findStaleOffsets(header, admin, topics, readAt);
  if (stale.length === 0) return { offsets: header.offsets, keepModel: true, stale };
  onStale(stale);
  if (policy === 'fail') throw new Error(staleMessage(path, stale));
  header.origins = [];
  if (policy === 'reset-to-checkpoint') return { offsets: resumeOffsets(header, stale), keepModel: true, stale };
  const offsets: PartitionOffset[] = [];
  for (const topic of topics) for (const o of await admin.startOffsets(topic)) offsets.push({ ...o });
  return { offsets, keepModel: false, stale };
}
