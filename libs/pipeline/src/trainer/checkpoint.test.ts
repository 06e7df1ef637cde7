import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousCheckpoint, readCheckpoint, readCheckpointHeader, writeCheckpoint } from './checkpoint.js';
import { CheckpointError } from './errors.js';

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

describe('a damaged checkpoint proves itself damaged', () => {
  const write = async (blobs: Record<string, Float32Array | Int32Array | Float64Array>): Promise<{ path: string; bytes: Buffer }> => {
    const path = join(mkdtempSync(join(tmpdir(), 'freshet-ck-')), 'model.ckpt');
    await writeCheckpoint(path, { sequence: 3, instance: 'x', offsets: [{ topic: 't', partition: 0, offset: 12 }] }, blobs);
    return { path, bytes: readFileSync(path) };
  };
  const verdict = (path: string): string => {
    try {
      readCheckpoint(path);
      return 'restored';
    } catch (err) {
      return err instanceof CheckpointError ? err.code : `untyped: ${String(err)}`;
    }
  };
  const blobs = { vectors: Float32Array.from([1.5, -2, 3, 0.25, 7]), ids: Int32Array.from([7, 8, 9]), counts: Float64Array.from([0.25, 4]) };

  it('is refused with every byte flipped in turn, one at a time', async () => {
    const { path, bytes } = await write(blobs);
    const missed: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i] ^= 0x01;
      writeFileSync(path, damaged);
      if (verdict(path) !== 'DAMAGED') missed.push(i);
    }
    expect(missed, `bytes whose flip went unnoticed (of ${bytes.length})`).toEqual([]);
  });

  it('is refused truncated at any byte, and extended, saying which part', async () => {
    const { path, bytes } = await write(blobs);
    const missed: number[] = [];
    for (let n = 0; n < bytes.length; n++) {
      writeFileSync(path, bytes.subarray(0, n));
      if (verdict(path) !== 'DAMAGED') missed.push(n);
    }
    expect(missed).toEqual([]);
    writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(8)]));
    expect(() => readCheckpoint(path)).toThrow(/is damaged: it is \d+ bytes where its header says \d+/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expect(() => readCheckpoint(path)).toThrow(/blob counts runs past the end of the file/);
  });

  it('is refused with NaN or infinity in any float blob, naming the blob', async () => {
    for (const [name, bad] of [
      ['vectors', Float32Array.from([1, Number.NaN, 3])],
      ['vectors', Float32Array.from([Number.POSITIVE_INFINITY])],
      ['counts', Float64Array.from([0, Number.NEGATIVE_INFINITY])],
    ] as const) {
      const { path } = await write({ ...blobs, [name]: bad });
      expect(() => readCheckpoint(path)).toThrow(new RegExp(`blob ${name} holds a non-finite value`));
    }
  });

  it('keeps the checkpoints before it, newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freshet-ck-'));
    const path = join(dir, 'model.ckpt');
    for (let sequence = 1; sequence <= 4; sequence++)
      await writeCheckpoint(path, { sequence, instance: 'x' }, { a: Float32Array.from([sequence]) }, () => true, 3);
    expect(readdirSync(dir).sort()).toEqual(['model.ckpt', 'model.ckpt.1', 'model.ckpt.2']);
    expect([
      readCheckpointHeader(path)?.sequence,
      readCheckpointHeader(previousCheckpoint(path, 1))?.sequence,
      readCheckpointHeader(previousCheckpoint(path, 2))?.sequence,
    ]).toEqual([4, 3, 2]);
  });
});
