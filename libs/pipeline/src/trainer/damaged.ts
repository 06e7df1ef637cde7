import { existsSync, renameSync } from 'node:fs';
import type { Logger } from '@freshet/runtime';
import { previousCheckpoint, readCheckpoint, type ReadCheckpoint } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import type { DamagedCheckpointPolicy } from './policies.js';

export { damagedCheckpointPolicies, type DamagedCheckpointPolicy } from './policies.js';

/** The checkpoint to restore: an intact one (null: start empty), and whether the model must start empty on purpose (reset). */
export interface Restorable {
  checkpoint: ReadCheckpoint | null;
  /** a damaged checkpoint under `reset`: the model starts empty and the log is read from its start */
  reset: boolean;
}

/**
 * Opens the checkpoint to restore. A damaged one (every byte is checksummed, every float checked
 * finite) is never restored: under `fail` the trainer stops with the part that is damaged and
 * what to do; under `previous` (the default) the damaged file is set aside
 * (`<path>.damaged-<time>`) and the newest intact previous checkpoint (`<path>.1`, `<path>.2`, ...)
 * takes its place, so the trainer resumes from an older, consistent model and its offsets (work
 * since then is redone, not doubled); under `reset` it is set aside and the model starts empty
 * from the log's start. A missing file with a previous one beside it (a crash between the two
 * renames of a rotation) restores the previous one.
 */
export function openRestorable(path: string, keep: number, policy: DamagedCheckpointPolicy, logger: Logger, onDamaged: (message: string) => void): Restorable {
  const candidates = [path, ...Array.from({ length: Math.max(0, keep - 1) }, (_, i) => previousCheckpoint(path, i + 1))];
  const damage: string[] = [];
  for (const [i, file] of candidates.entries()) {
    if (!existsSync(file)) {
      if (i === 0) continue;
      break;
    }
    try {
      const checkpoint = readCheckpoint(file);
      if (i > 0) {
        // the intact previous checkpoint becomes the current one (the fence reads the current file)
        renameSync(file, path);
        logger.warn(
          { restored: file, damaged: damage },
          `restoring the previous checkpoint ${file}: ${damage.length > 0 ? damage.join('; ') : `${path} was missing`}`,
        );
      }
      return { checkpoint, reset: false };
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
      renameSync(file, `${file}.damaged-${Date.now()}`);
      if (policy === 'reset') {
        logger.warn({ damaged: err.message }, 'the checkpoint is damaged: starting the model empty from the start of the log (--on-damaged-checkpoint reset)');
        return { checkpoint: null, reset: true };
      }
    }
  }
  if (damage.length > 0) throw new CheckpointError('DAMAGED', `no intact checkpoint to restore (${damage.join('; ')}): start fresh with \`freshet reset\``);
  return { checkpoint: null, reset: false };
}
