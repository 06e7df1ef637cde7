import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Throws a one-line error when `path` cannot be written (checked before long work, not after it). */
export function assertWritable(path: string): void {
  const full = resolve(path);
  const target = existsSync(full) ? full : dirname(full);
  try {
    accessSync(target, constants.W_OK);
  } catch {
    throw new Error(`cannot write ${path}: ${existsSync(target) ? 'permission denied' : `folder ${dirname(full)} does not exist`}`);
  }
}
