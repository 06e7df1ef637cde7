import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint, readCheckpointHeader, writeCheckpoint } from './checkpoint.js';

describe('checkpoint files', () => {
  it('round-trips header and blobs, and reads the header alone', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'freshet-ck-')), 'model.ckpt');
    const blobs = { a: Float32Array.from([1.5, -2, 3]), b: Int32Array.from([7, 8]), c: Float64Array.from([0.25]) };
    const bytes = await writeCheckpoint(path, { sequence: 3, instance: 'x' }, blobs);
    expect(bytes).toBeGreaterThan(0);
    const back = readCheckpoint(path);
    expect(back?.header).toMatchObject({ sequence: 3, instance: 'x' });
    expect([...(back?.blobs.get('a') ?? [])]).toEqual([1.5, -2, 3]);
    expect([...(back?.blobs.get('b') ?? [])]).toEqual([7, 8]);
    expect([...(back?.blobs.get('c') ?? [])]).toEqual([0.25]);
    expect(readCheckpointHeader(path)).toMatchObject({ sequence: 3, instance: 'x' });
    expect(readCheckpointHeader(join(tmpdir(), 'no-such-checkpoint'))).toBeNull();
  });

  it('leaves the old file in place and no temporary behind when the last-moment check refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freshet-ck-'));
    const path = join(dir, 'model.ckpt');
    await writeCheckpoint(path, { sequence: 1, instance: 'owner' }, { a: Float32Array.from([1]) });
    const refused = await writeCheckpoint(path, { sequence: 9, instance: 'stale' }, { a: Float32Array.from([2]) }, () => false);
    expect(refused).toBe(-1);
    expect(readCheckpointHeader(path)).toMatchObject({ sequence: 1, instance: 'owner' });
    expect(readdirSync(dir)).toEqual(['model.ckpt']);
  });
});
