import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { previousCheckpoint, readCheckpoint, type ReadCheckpoint } from './checkpoint.js';
import { INCREMENT_FORMAT, checkpointIdentity, incrementLink } from './checkpoint-state.js';
import { CheckpointError } from './errors.js';

/**
 * A checkpoint's state is a chain: the full checkpoint it starts from, then every increment up
 * to it, kept as the files before it (`<path>.1`, `<path>.2`, ...: the head at age a, its chain
 * at ages a + 1 .. a + c, c the head's chain position). Reading one reads and verifies every file
 * of its chain and checks each increment follows the file after it.
 */

/** The file at `age` (0: the current checkpoint). */
export function checkpointAt(path: string, age: number): string {
  return age === 0 ? path : previousCheckpoint(path, age);
}

/** The highest age of a previous checkpoint beside `path` (0: none). */
export function oldestAge(path: string): number {
  const dir = dirname(path);
  if (!existsSync(dir)) return 0;
  const prefix = `${basename(path)}.`;
  let oldest = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const age = Number(name.slice(prefix.length));
    if (Number.isInteger(age) && age > oldest) oldest = age;
  }
  return oldest;
}

/** The chain position of a checkpoint file's header (0: full). */
export function chainPosition(header: Record<string, unknown> | null): number {
  return header?.format === INCREMENT_FORMAT ? (incrementLink(header.increment)?.chain ?? 0) : 0;
}

/** A damaged or broken chain: which file (null when a file is missing) and what is wrong. */
export class ChainDamage extends CheckpointError {
  constructor(
    message: string,
    readonly file: string | null,
  ) {
    super('DAMAGED', message);
  }
}

/** The full checkpoint and the increments after it, oldest first (the last is the file at `age`). */
export function readChain(path: string, age: number): ReadCheckpoint[] {
  const read = (at: number): ReadCheckpoint => {
    const file = checkpointAt(path, at);
    if (!existsSync(file)) throw new ChainDamage(`checkpoint ${checkpointAt(path, age)} is an increment whose chain is incomplete: ${file} is missing`, null);
    try {
      const c = readCheckpoint(file);
      if (c === null) throw new ChainDamage(`${file} is missing`, null);
      return c;
    } catch (err) {
      if (err instanceof CheckpointError && err.code === 'DAMAGED' && !(err instanceof ChainDamage)) throw new ChainDamage(err.message, file);
      throw err;
    }
  };
  const head = read(age);
  const parts = [head];
  let at = age;
  let current = head;
  while (current.header.format === INCREMENT_FORMAT) {
    const link = incrementLink(current.header.increment);
    if (link === null)
      throw new ChainDamage(`checkpoint ${checkpointAt(path, at)} is an increment that names no checkpoint it follows`, checkpointAt(path, at));
    const before = read(at + 1);
    if (checkpointIdentity(before.header) !== link.follows || chainPosition(before.header) !== link.chain - 1) {
      throw new ChainDamage(
        `checkpoint ${checkpointAt(path, at)} follows ${link.follows}, but ${checkpointAt(path, at + 1)} is ${String(checkpointIdentity(before.header))}: its chain is broken`,
        null,
      );
    }
    parts.unshift(before);
    current = before;
    at++;
  }
  return parts;
}
