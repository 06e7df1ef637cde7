import { vectorToBytes } from '@freshet/avro';
import { describe, expect, it } from 'vitest';
import { KindRows } from './kind-rows.js';

const bytes = (...xs: number[]): Buffer => vectorToBytes(Float32Array.from(xs));

describe('KindRows', () => {
  it('keeps each entity’s latest row, reuses a deleted row’s slot, and chunks every live row once', () => {
    const rows = new KindRows('WORD');
    for (let i = 0; i < 2500; i++) expect(rows.set(`w${i}`, bytes(i, -i), i / 2, 1000 + i, i % 7 === 0)).toBe(true);
    rows.set('w3', bytes(30, 31), 0, 5000, false);
    for (let i = 0; i < 2500; i += 2) rows.delete(`w${i}`);
    const arrays = rows.bytes;
    // new ids take the freed slots: the arrays do not grow
    for (let i = 0; i < 1250; i++) rows.set(`n${i}`, bytes(-1, i), 0, 9000, false);
    expect(rows.bytes).toBe(arrays);
    expect(rows.size).toBe(2500);
    expect(Array.from(rows.vector('w3') ?? [])).toEqual([30, 31]);
    expect(rows.vector('w4')).toBeUndefined();
    expect(Array.from(rows.vector('n7') ?? [])).toEqual([-1, 7]);
    expect(rows.record('w21', 42)).toMatchObject({ kind: 'WORD', id: 'w21', dim: 2, version: 42, updatedAt: 1021, bias: 10.5, zeroShot: true });
    const seen = new Map<string, number[]>();
    for (const chunk of rows.chunks(1000)) {
      expect(chunk.ids.length).toBeLessThanOrEqual(1000);
      chunk.ids.forEach((id, j) => seen.set(id, [chunk.vectors.readFloatLE(j * 8), chunk.vectors.readFloatLE(j * 8 + 4), chunk.biases[j]]));
      for (const id of chunk.zeroShot) expect(rows.isZeroShot(id)).toBe(true);
    }
    expect(seen.size).toBe(2500);
    expect(seen.get('w3')).toEqual([30, 31, 0]);
    expect(seen.get('w9')).toEqual([9, -9, 4.5]);
    expect(seen.get('n1249')).toEqual([-1, 1249, 0]);
  });

  it('holds one dimension per kind: a row of another is refused while rows remain, taken once the kind is empty', () => {
    const rows = new KindRows('IMAGE');
    expect(rows.set('a', bytes(1, 2, 3), 0, 1, false)).toBe(true);
    expect(rows.fits(2)).toBe(false);
    expect(rows.set('b', bytes(1, 2), 0, 1, false)).toBe(false);
    expect(rows.has('b')).toBe(false);
    rows.delete('a');
    expect(rows.set('b', bytes(1, 2), 0, 1, false)).toBe(true);
    expect(rows.dim).toBe(2);
    expect(Array.from(rows.vector('b') ?? [])).toEqual([1, 2]);
  });
});
