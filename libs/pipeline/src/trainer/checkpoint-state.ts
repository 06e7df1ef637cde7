import type { Blob } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import type { LearnerState } from './learner.js';
import type { OriginMark } from './replays.js';
import type { SettingsOnDisk } from './settings-check.js';

/** The checkpoint format this trainer writes and reads. Format 1 (one model pair, fixed blob names) predates learners. */
export const CHECKPOINT_FORMAT = 2;
/**
 * An incremental checkpoint: the rows changed since the checkpoint it follows. Its own format
 * number so that a trainer from before increments refuses it (UNKNOWN_FORMAT) instead of
 * restoring a part of a model as if it were whole.
 */
export const INCREMENT_FORMAT = 3;

/** Which checkpoint an increment follows, and how far it is from the full one its chain starts at. */
export interface IncrementLink {
  /** the identity (checkpointIdentity) of the checkpoint it follows */
  follows: string;
  /** 1 for the first increment after a full checkpoint */
  chain: number;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
  /**
   * The record just below `offset` (the last one applied): its timestamp and the CRC-32 of its
   * value. On restore the trainer reads that record back; another one there means the log was
   * replaced (a wiped broker keeps its cluster id when the id is configured, and a recreated topic
   * can reach the same offsets), which offsets alone cannot show.
   */
  last?: { timestamp: number; crc: number };
}

/** What a checkpoint's header says, checked on read. */
export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT | typeof INCREMENT_FORMAT;
  /** present in an increment */
  increment?: IncrementLink;
  createdAt: number;
  /** the writing instance and its write count: the split-brain fence compares them */
  instance: string;
  sequence: number;
  /** the Kafka cluster whose log the offsets belong to ('' when unknown) */
  clusterId: string;
  /** next offset to apply, per training partition */
  offsets: PartitionOffset[];
  eventTimeHighWatermark: number;
  /** events applied to this model since it was empty (replays skipped are not counted) */
  modelEvents: number;
  /** the replay filter's marks: highest raw offset applied per (training partition, raw partition) */
  origins: OriginMark[];
  /** each learner's header, by stream */
  learners: Record<string, Record<string, unknown>>;
  /** every setting the model was trained with (absent in checkpoints written before settings were saved) */
  settings?: SettingsOnDisk;
}

/** Blob names carry their learner's stream: `<stream>/<name>`. */
export function checkpointBlobs(states: Record<string, LearnerState>): Record<string, Blob> {
  const out: Record<string, Blob> = {};
  for (const [stream, state] of Object.entries(states)) for (const [name, blob] of Object.entries(state.blobs)) out[`${stream}/${name}`] = blob;
  return out;
}

/** One learner's state back out of a checkpoint. */
export function learnerState(header: CheckpointHeader, blobs: Map<string, Blob>, stream: string): LearnerState | null {
  const h = header.learners[stream];
  if (h === undefined) return null;
  const prefix = `${stream}/`;
  const own: Record<string, Blob> = {};
  for (const [name, blob] of blobs) if (name.startsWith(prefix)) own[name.slice(prefix.length)] = blob;
  return { header: h, blobs: own };
}

/**
 * Checks a header read from disk: the format this trainer understands and every field of the
 * right type. A checkpoint from another version or a damaged file stops the trainer with a
 * message that says so, instead of restoring garbage.
 */
export function parseCheckpointHeader(raw: Record<string, unknown>, path: string): CheckpointHeader {
  const fail = (what: string, code: 'UNKNOWN_FORMAT' | 'MALFORMED' = 'MALFORMED'): never => {
    throw new CheckpointError(
      code,
      `checkpoint ${path}: ${what}. Start fresh with \`freshet reset\` (it removes checkpoints and group offsets), or point --checkpoint-dir elsewhere.`,
    );
  };
  if (raw.format !== CHECKPOINT_FORMAT && raw.format !== INCREMENT_FORMAT)
    fail(`format ${String(raw.format)} is not a format this trainer reads (${CHECKPOINT_FORMAT}: full, ${INCREMENT_FORMAT}: increment)`, 'UNKNOWN_FORMAT');
  const increment = raw.format === INCREMENT_FORMAT ? (incrementLink(raw.increment) ?? fail('an increment names no checkpoint it follows')) : undefined;
  const num = (k: string): number => (typeof raw[k] === 'number' && Number.isFinite(raw[k]) ? (raw[k] as number) : fail(`field ${k} is not a number`));
  const str = (k: string): string => (typeof raw[k] === 'string' ? (raw[k] as string) : fail(`field ${k} is not a string`));
  const offsets = Array.isArray(raw.offsets) ? raw.offsets : fail('field offsets is not a list');
  for (const o of offsets as unknown[]) {
    const p = o as Partial<PartitionOffset>;
    if (typeof p.topic !== 'string' || !Number.isInteger(p.partition) || !Number.isInteger(p.offset)) fail('an offset entry is malformed');
  }
  const origins = raw.origins === undefined ? [] : Array.isArray(raw.origins) ? (raw.origins as OriginMark[]) : fail('field origins is not a list');
  for (const o of origins) {
    if (
      typeof o.topic !== 'string' ||
      !Number.isInteger(o.partition) ||
      !Number.isInteger(o.origin) ||
      !Number.isInteger(o.offset) ||
      typeof o.timestamp !== 'number' ||
      (o.epoch !== undefined && typeof o.epoch !== 'string')
    )
      fail('an origin entry is malformed');
  }
  const learners =
    typeof raw.learners === 'object' && raw.learners !== null ? (raw.learners as Record<string, Record<string, unknown>>) : fail('field learners is missing');
  const settings = raw.settings === undefined ? undefined : isSettings(raw.settings) ? raw.settings : fail('field settings is malformed');
  return {
    format: increment === undefined ? CHECKPOINT_FORMAT : INCREMENT_FORMAT,
    ...(increment !== undefined ? { increment } : {}),
    createdAt: num('createdAt'),
    instance: str('instance'),
    sequence: num('sequence'),
    clusterId: str('clusterId'),
    offsets: offsets as PartitionOffset[],
    eventTimeHighWatermark: num('eventTimeHighWatermark'),
    modelEvents: raw.modelEvents === undefined ? 0 : num('modelEvents'),
    origins,
    learners,
    ...(settings !== undefined ? { settings } : {}),
  };
}

/** An increment's link, checked (null: missing or malformed). */
export function incrementLink(x: unknown): IncrementLink | null {
  const o = x as Partial<IncrementLink> | null;
  return typeof o === 'object' && o !== null && typeof o.follows === 'string' && Number.isInteger(o.chain) && (o.chain ?? 0) >= 1
    ? { follows: o.follows, chain: o.chain as number }
    : null;
}

function isSettings(x: unknown): x is SettingsOnDisk {
  const o = x as Partial<SettingsOnDisk> | null;
  return typeof o === 'object' && o !== null && typeof o.trainer === 'object' && o.trainer !== null && typeof o.streams === 'object' && o.streams !== null;
}

/** Which write of which instance a checkpoint header records (null: no checkpoint). */
export function checkpointIdentity(header: Record<string, unknown> | null): string | null {
  if (header === null) return null;
  return `${String(header.instance ?? 'unknown')}#${String(header.sequence ?? 0)}`;
}
