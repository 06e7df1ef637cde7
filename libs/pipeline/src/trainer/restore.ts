import type { Admin } from '@freshet/transport';
import type { CheckpointHeader, PartitionOffset } from './checkpoint-state.js';

/** What to do with a checkpoint whose offsets do not belong to the log it would resume. */
export type StaleCheckpointPolicy = 'fail' | 'reset-to-checkpoint' | 'reset-to-earliest';
export const staleCheckpointPolicies: readonly StaleCheckpointPolicy[] = ['fail', 'reset-to-checkpoint', 'reset-to-earliest'];

export interface StaleOffset extends PartitionOffset {
  reason: 'other-cluster' | 'beyond-log-end' | 'below-log-start';
  /** the log's earliest and next offsets now */
  start: number;
  end: number;
}

/**
 * Compares a checkpoint's offsets with the log: an offset past the log's end means the log was
 * wiped or the topic recreated (resuming would skip everything written since); one below the
 * log's start means records were deleted by retention before they were trained on; another
 * cluster id means the offsets are another log's altogether.
 */
export async function findStaleOffsets(header: CheckpointHeader, admin: Admin, topics: readonly string[]): Promise<StaleOffset[]> {
  const clusterId = await admin.clusterId();
  const otherCluster = header.clusterId !== '' && header.clusterId !== clusterId;
  const stale: StaleOffset[] = [];
  for (const topic of topics) {
    const ends = new Map((await admin.endOffsets(topic)).map((o) => [o.partition, o.offset]));
    const starts = new Map((await admin.startOffsets(topic)).map((o) => [o.partition, o.offset]));
    for (const o of header.offsets.filter((x) => x.topic === topic)) {
      const end = ends.get(o.partition) ?? 0;
      const start = starts.get(o.partition) ?? 0;
      const reason = otherCluster ? 'other-cluster' : o.offset > end ? 'beyond-log-end' : o.offset < start ? 'below-log-start' : null;
      if (reason !== null) stale.push({ ...o, reason, start, end });
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
  return header.offsets.map((o) => ({ ...o, offset: reset.get(`${o.topic}#${o.partition}`) ?? o.offset }));
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
): Promise<ResumePlan> {
  const stale = await findStaleOffsets(header, admin, topics);
  if (stale.length === 0) return { offsets: header.offsets, keepModel: true, stale };
  onStale(stale);
  if (policy === 'fail') throw new Error(staleMessage(path, stale));
  header.origins = [];
  if (policy === 'reset-to-checkpoint') return { offsets: resumeOffsets(header, stale), keepModel: true, stale };
  const offsets: PartitionOffset[] = [];
  for (const topic of topics) for (const o of await admin.startOffsets(topic)) offsets.push({ ...o });
  return { offsets, keepModel: false, stale };
}
