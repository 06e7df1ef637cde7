import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from './errors.js';

/** The file in a checkpoint folder that names the deployment the folder belongs to. */
export const OWNER_FILE = 'trainer.owner';

interface Owner {
  groupId: string;
  since: string;
}

/**
 * Claims a checkpoint folder for one trainer deployment (its consumer group, which carries its
 * topic prefix). The fence between checkpoints settles which instance of one group owns the
 * model; two deployments of different groups pointed at one folder would both be active and
 * overwrite each other's model until a checkpoint fenced one out. So the folder names its group
 * on first use (created exclusively: of two starting together, one writes it), and a trainer of
 * another group refuses to start, naming both and what to do. False: the folder cannot be
 * written now (claimed again before each checkpoint).
 */
export function claimCheckpointDir(dir: string, groupId: string): boolean {
  const path = join(dir, OWNER_FILE);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, JSON.stringify({ groupId, since: new Date().toISOString() } satisfies Owner) + '\n', { flag: 'wx' });
    return true;
  } catch (err) {
    // a folder that cannot be written now is not a conflict: checkpoints fail and say so, and the
    // claim is made again before each one
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  let owner: Partial<Owner> = {};
  try {
    owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
  } catch {
    // unreadable: said below with what to do
  }
  if (owner.groupId === groupId) return true;
  throw new CheckpointError(
    'OWNED',
    `the checkpoint folder ${dir} belongs to the trainers of consumer group ${JSON.stringify(owner.groupId ?? '(unreadable)')}, not ${JSON.stringify(groupId)}: ` +
      `give each deployment its own --checkpoint-dir (two deployments in one folder overwrite each other's model), or, if this group is meant to take the folder over, stop the other and remove ${path}`,
  );
}
