import { describe, expect, it } from 'vitest';
import { Matrix, cosine, dot } from './matrix.js';
import { Rng } from './rng.js';
import { sortIdsByKeyDesc } from './sort.js';
import { SigmoidTable } from './sigmoid.js';

describe('Rng', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
  });

  it('gives uniform floats and ints in range', () => {
    const r = new Rng(1);
    let sum = 0;
    const hist = new Float64Array(7);
    for (let i = 0; i < 70_000; i++) {
      const x = r.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      hist[r.nextInt(7)]++;
    }
    expect(sum / 70_000).toBeCloseTo(0.5, 2);
    for (const h of hist) expect(h / 70_000).toBeCloseTo(1 / 7, 2);
    for (let i = 0; i < 10_000; i++) expect(r.nextFloatOpenZero()).toBeGreaterThan(0);
  });
});

describe('Matrix', () => {
  it('grows rows, keeps their content and ids', () => {
    const m = new Matrix(3, 2, { capacity: 2 });
    m.data.set([1, 2, 3, 4, 5, 6]);
    const first = m.addRows(5);
    expect(first).toBe(2);
    expect(m.rows).toBe(7);
    expect(Array.from(m.row(1))).toEqual([4, 5, 6]);
    expect(Array.from(m.row(6))).toEqual([0, 0, 0]);
  });

  it('computes dot and cosine with odd widths', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5]);
    const b = Float32Array.from([5, 4, 3, 2, 1]);
    expect(dot(a, 0, b, 0, 5)).toBe(35);
    expect(cosine(a, 0, a, 0, 5)).toBeCloseTo(1, 6);
    expect(cosine(a, 0, new Float32Array(5), 0, 5)).toBe(0);
  });

  it('can live in shared memory for Hogwild workers', () => {
    const m = new Matrix(4, 4, { shared: true });
    expect(m.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    m.addRows(100);
    expect(m.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('sortIdsByKeyDesc', () => {
  it('sorts random and nearly sorted input, small and large', () => {
    const r = new Rng(3);
    for (const n of [1, 2, 17, 1000, 20_000]) {
      for (const nearly of [false, true]) {
        const keys = new Float32Array(n);
        const ids = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          keys[i] = nearly ? n - i + r.nextGaussian() * 2 : r.nextGaussian();
          ids[i] = i;
        }
        const original = keys.slice();
        sortIdsByKeyDesc(ids, keys, n);
        for (let i = 1; i < n; i++) expect(keys[i - 1] >= keys[i]).toBe(true);
        for (let i = 0; i < n; i++) expect(keys[i]).toBe(original[ids[i]]);
      }
    }
  });
});

describe('SigmoidTable', () => {
  it('is within table resolution of the exact sigmoid and clips outside the range', () => {
    const s = new SigmoidTable();
    for (let x = -5.9; x < 5.9; x += 0.37) expect(Math.abs(s.value(x) - 1 / (1 + Math.exp(-x)))).toBeLessThan(0.01);
    expect(s.value(7)).toBe(1);
    expect(s.value(-7)).toBe(0);
  });

  it('gives the logistic loss -log sigmoid(x) within table resolution, and its limits outside the range', () => {
    const s = new SigmoidTable();
    for (let x = -5.9; x < 5.9; x += 0.37)
      // one table step is 0.012 wide and the loss has slope up to 1
      expect(Math.abs(s.lossOf(x) - Math.log1p(Math.exp(-x)))).toBeLessThan(0.015);
    expect(s.lossOf(8)).toBe(0);
    expect(s.lossOf(-8)).toBe(8);
  });
});

describe('partialSortIdsByKeyDesc', () => {
  it('makes both ends exact and keeps every id', async () => {
    const { partialSortIdsByKeyDesc } = await import('./sort.js');
    const r = new Rng(9);
    for (const [n, m] of [
      [10_000, 300],
      [1000, 600],
      [50, 3],
    ]) {
      const keys = new Float32Array(n);
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        keys[i] = r.nextGaussian();
        ids[i] = i;
      }
      const original = keys.slice();
      const sorted = Array.from(original).sort((a, b) => b - a);
      partialSortIdsByKeyDesc(ids, keys, n, m);
      for (let i = 0; i < Math.min(m, n); i++) expect(keys[i]).toBe(sorted[i]);
      for (let i = Math.max(0, n - m); i < n; i++) expect(keys[i]).toBe(sorted[i]);
      for (let i = 0; i < n; i++) expect(keys[i]).toBe(original[ids[i]]);
      expect(new Set(ids).size).toBe(n);
    }
  });
});
