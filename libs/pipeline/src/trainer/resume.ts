import type { Logger } from '@freshet/runtime';
import type { Transport } from '@freshet/transport';
import { readRecordsAt } from '../read-to-end.js';
import type { AnyStream } from '../streams/stream.js';
import { openRestorable, type DamagedCheckpointPolicy } from './damaged.js';
import { learnerState, parseCheckpointHeader, type CheckpointHeader, type PartitionOffset } from './checkpoint-state.js';
import type { Blob } from './checkpoint.js';
import type { Learner, LearnerState } from './learner.js';
import type { OriginMark } from './replays.js';
import { planResume, staleMessage, type StaleCheckpointPolicy, type StaleOffset } from './restore.js';
import { checkSettings, type SavedSettings } from './settings-check.js';

/** Where a restored trainer resumes, and the model's bookkeeping (null: the model starts empty). */
export interface Resumed {
  offsets: PartitionOffset[];
  model: { eventTimeHighWatermark: number; modelEvents: number; origins: OriginMark[] } | null;
}

/** What the trainer resumes with: its checkpoint file and fence, its wiring and stale policy. */
interface ResumeOptions {
  transport: Transport;
  topics: { streams: readonly AnyStream[] };
  onStaleCheckpoint: StaleCheckpointPolicy;
  onDamagedCheckpoint: DamagedCheckpointPolicy;
  keepCheckpoints: number;
  logger: Logger;
}

/**
 * Restores the checkpoint into the (untouched) learners: its settings compared with the running
 * ones (every difference named; a shape difference stops it), its offsets checked against the log
 * and the stale-checkpoint policy applied, then every learner's state loaded. Null when there is
 * no checkpoint.
 */
export async function resumeFromCheckpoint(
  checkpointer: { readonly path: string; restored(header: CheckpointHeader | null): void },
  opts: ResumeOptions,
  learners: readonly Learner[],
  settings: SavedSettings,
  onStale: (stale: StaleOffset[]) => void,
  onDamaged: (message: string) => void,
): Promise<Resumed | null> {
  const c = {
    path: checkpointer.path,
    transport: opts.transport,
    learners,
    streams: opts.topics.streams,
    settings,
    policy: opts.onStaleCheckpoint,
    logger: opts.logger,
    onStale,
  };
  const { checkpoint: ck, chain, reset } = openRestorable(c.path, opts.keepCheckpoints, opts.onDamagedCheckpoint, c.logger, onDamaged);
  const header = ck === null ? null : parseCheckpointHeader(ck.header, c.path);
  // the split-brain fence compares the file on disk against what was restored
  checkpointer.restored(header);
  if (reset) return { offsets: await logStarts(c.transport, c.learners), model: null };
  if (ck === null || header === null) return null;
  if (!ck.verified) c.logger.warn({ path: c.path }, 'restoring a format 2 checkpoint: it carries no checksums (the next checkpoint will)');
  checkSettings(header.settings, c.settings, c.streams, c.path, c.logger);
  const admin = await c.transport.admin();
  const plan = await planResume(
    header,
    admin,
    c.learners.map((l) => l.topic),
    c.policy,
    c.path,
    (stale) => {
      c.onStale(stale);
      if (c.policy !== 'fail') c.logger.warn({ policy: c.policy, stale }, staleMessage(c.path, stale));
    },
    (at) => readRecordsAt(c.transport, at),
  ).finally(() => admin.close());
  // reset-to-earliest: the model goes with the offsets, so it starts empty
  if (!plan.keepModel) return { offsets: plan.offsets, model: null };
  const parts = chain.map((part) => ({ header: parseCheckpointHeader(part.header, c.path), blobs: part.blobs }));
  for (const l of c.learners) {
    const state = foldChain(l, parts);
    if (state !== null) l.importState(state);
    // updates sent after the checkpoint may have been lost with the crash: send everything again
    l.markAllChanged();
  }
  c.logger.info({ path: c.path, offsets: plan.offsets, learners: Object.fromEntries(c.learners.map((l) => [l.stream, l.details()])) }, 'restored checkpoint');
  return { offsets: plan.offsets, model: { eventTimeHighWatermark: header.eventTimeHighWatermark, modelEvents: header.modelEvents, origins: header.origins } };
}

/** A learner's state from a chain: its part of the full checkpoint with each increment's part folded in, oldest first. */
function foldChain(learner: Learner, parts: ReadonlyArray<{ header: CheckpointHeader; blobs: Map<string, Blob> }>): LearnerState | null {
  let state: LearnerState | null = null;
  for (const part of parts) {
    const own = learnerState(part.header, part.blobs, learner.stream);
    if (own === null) continue;
    if (part.header.increment === undefined) state = own;
    else if (state === null)
      throw new Error(`checkpoint increment ${part.header.sequence} holds ${learner.stream}, which the full checkpoint it follows does not`);
    else state = learner.mergeIncrement(state, own);
  }
  return state;
}

/** Every training partition's earliest offset: where an empty model starts reading. */
async function logStarts(transport: Transport, learners: readonly Learner[]): Promise<PartitionOffset[]> {
  const admin = await transport.admin();
  try {
    const out: PartitionOffset[] = [];
    for (const l of learners) for (const o of await admin.startOffsets(l.topic)) out.push({ ...o });
    return out;
  } finally {
    await admin.close();
  }
}
