import { existsSync, renameSync } from 'node:fs';
import type { Logger } from '@freshet/runtime';
import { ChainDamage, checkpointAt, oldestAge, readChain } from './chain.js';
import type { ReadCheckpoint } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import type { DamagedCheckpointPolicy } from './policies.js';

export { damagedCheckpointPolicies, type DamagedCheckpointPolicy } from './policies.js';

/** The checkpoint to restore: an intact one (null: start empty), and whether the model must start empty on purpose (reset). */
export interface Restorable {
  checkpoint: ReadCheckpoint | null;
  /** its chain, oldest first: the full checkpoint, then each increment up to `checkpoint` (just [checkpoint] when it is full) */
  chain: ReadCheckpoint[];
  /** a damaged checkpoint under `reset`: the model starts empty and the log is read from its start */
  reset: boolean;
}

/**
 * Opens the checkpoint to restore, with the chain of files its state is built from (chain.ts).
 * A damaged one (every byte is checksummed, every float checked finite; an increment whose chain
 * is broken or incomplete counts as damaged) is never restored: under `fail` the trainer stops
 * with the part that is damaged and what to do; under `previous` (the default) the damaged file
 * is set aside (`<path>.damaged-<time>`) and the newest previous checkpoint whose chain is intact
 * (`<path>.1`, `<path>.2`, ...) takes the current one's place, so the trainer resumes from an
 * older, consistent model and its offsets (work since then is redone, not doubled); under `reset`
 * it is set aside and the model starts empty from the log's start. A missing file with a previous
 * one beside it (a crash between two renames of a rotation) restores the previous one.
 */
export function openRestorable(path: string, keep: number, policy: DamagedCheckpointPolicy, logger: Logger, onDamaged: (message: string) => void): Restorable {
  const oldest = Math.max(oldestAge(path), keep - 1);
  const damage: string[] = [];
  for (let age = 0; age <= oldest; age++) {
    const file = checkpointAt(path, age);
    if (!existsSync(file)) continue;
    try {
      const chain = readChain(path, age);
      if (age > 0) {
        promote(path, age, oldest);
        logger.warn(
          { restored: file, damaged: damage },
          `restoring the previous checkpoint ${file}: ${damage.length > 0 ? damage.join('; ') : `${path} was missing`}`,
        );
      }
      return { checkpoint: chain[chain.length - 1], chain, reset: false };
    } catch (err) {
      if (!(err instanceof CheckpointError) || err.code !== 'DAMAGED') throw err;
      damage.push(err.message);
      onDamaged(err.message);
      if (policy === 'fail') {
        throw new CheckpointError(
          'DAMAGED',
          `${err.message}. Nothing was restored. Restore the newest intact previous checkpoint with --on-damaged-checkpoint previous, or start the model empty with --on-damaged-checkpoint reset (or freshet reset).`,
        );
      }
      const bad = err instanceof ChainDamage ? err.file : file;
      if (bad !== null) renameSync(bad, `${bad}.damaged-${Date.now()}`);
      if (policy === 'reset') {
        logger.warn({ damaged: err.message }, 'the checkpoint is damaged: starting the model empty from the start of the log (--on-damaged-checkpoint reset)');
        return { checkpoint: null, chain: [], reset: true };
      }
    }
  }
  if (damage.length > 0) throw new CheckpointError('DAMAGED', `no intact checkpoint to restore (${damage.join('; ')}): start fresh with \`freshet reset\``);
  return { checkpoint: null, chain: [], reset: false };
}

/**
 * Makes the checkpoint at `age` the current one (the fence reads the current file): the newer
 * ones left (heads of broken chains) are set aside, and it and every older file move up by `age`.
 */
function promote(path: string, age: number, oldest: number): void {
  const now = Date.now();
  for (let a = 0; a < age; a++) {
    const f = checkpointAt(path, a);
    if (existsSync(f)) renameSync(f, `${f}.unusable-${now}`);
  }
  for (let a = age; a <= oldest; a++) {
    const f = checkpointAt(path, a);
    if (existsSync(f)) renameSync(f, checkpointAt(path, a - age));
  }
}
