import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.js';
import { claimCheckpointDir, OWNER_FILE } from './owner.js';

describe('a checkpoint folder has one owner', () => {
  it('is claimed by the first group, taken again by the same group, and refused to another with what to do', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'freshet-owner-')), 'checkpoints');
    expect(claimCheckpointDir(dir, 'prod.freshet-trainer')).toBe(true);
    expect(existsSync(join(dir, OWNER_FILE))).toBe(true);
    // a restart, or the standby of the same deployment
    expect(() => claimCheckpointDir(dir, 'prod.freshet-trainer')).not.toThrow();
    let refused: unknown;
    try {
      claimCheckpointDir(dir, 'staging.freshet-trainer');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(CheckpointError);
    expect((refused as CheckpointError).code).toBe('OWNED');
    expect((refused as Error).message).toMatch(
      /belongs to the trainers of consumer group "prod\.freshet-trainer", not "staging\.freshet-trainer".*--checkpoint-dir/,
    );
  });

  it('a folder that cannot be written is not claimed, and not refused (checkpoints fail and say so)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'freshet-owner-')), 'a-file');
    writeFileSync(file, 'x');
    expect(claimCheckpointDir(join(file, 'checkpoints'), 'g')).toBe(false);
  });

  it('an unreadable owner file is refused too, never taken over silently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'freshet-owner-'));
    writeFileSync(join(dir, OWNER_FILE), 'not json');
    expect(() => claimCheckpointDir(dir, 'g')).toThrow(/\(unreadable\)/);
  });
});
