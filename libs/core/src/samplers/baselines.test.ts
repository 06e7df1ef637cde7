import { describe, expect, it } from 'vitest';
import { AliasTable } from '../math/alias.js';
import { Matrix } from '../math/matrix.js';
import { Rng } from '../math/rng.js';
import { PopularitySampler } from './popularity.js';
import { NO_EXCLUDE } from './sampler.js';
import { UniformSampler } from './uniform.js';
import { WarpSampler } from './warp.js';

describe('alias table', () => {
  it('reproduces its weights and reaches the first and the last entry', () => {
    const weights = [5, 1, 1, 1, 2, 0.5];
    const table = new AliasTable(weights);
    const rng = new Rng(1);
    const counts = new Float64Array(weights.length);
    const draws = 300_000;
    for (let i = 0; i < draws; i++) counts[table.sample(rng)]++;
    const total = weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      expect(counts[i] / draws).toBeCloseTo(weights[i] / total, 2);
      expect(table.probabilityOf(i)).toBeCloseTo(weights[i] / total, 10);
    }
  });
});

describe('popularity sampler', () => {
  it('follows count^alpha and rebuilds on schedule as counts grow', () => {
    const counts = [100, 1, 1, 1];
    const rng = new Rng(2);
    const s = new PopularitySampler(() => counts, rng, { alpha: 0.5, rebuildEvery: 1000 });
    expect(s.probabilityOf(0)).toBeCloseTo(10 / 13, 6);
    counts[3] = 10_000;
    for (let i = 0; i < 999; i++) s.draw(-1, NO_EXCLUDE, 0);
    expect(s.stats.refreshes).toBe(1);
    s.draw(-1, NO_EXCLUDE, 0);
    expect(s.stats.refreshes).toBe(2);
    expect(s.probabilityOf(3)).toBeCloseTo(100 / 112, 6);
  });

  it('reaches items added since the last rebuild and never returns the positive', () => {
    const counts = [50, 50, 50];
    const rng = new Rng(3);
    const s = new PopularitySampler(() => counts, rng, { alpha: 0.75, rebuildEvery: 1_000_000 });
    s.draw(-1, NO_EXCLUDE, 0);
    counts.push(1, 1);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const a = s.draw(0, NO_EXCLUDE, 0);
      expect(a).not.toBe(0);
      seen.add(a);
    }
    expect(seen.has(3) && seen.has(4)).toBe(true);
  });
});

describe('uniform sampler', () => {
  it('covers every non-positive item evenly', () => {
    const items = new Matrix(1, 10);
    const s = new UniformSampler(items, new Rng(4));
    const exclude = Int32Array.from([3, 7]);
    const counts = new Float64Array(10);
    for (let i = 0; i < 80_000; i++) counts[s.draw(5, exclude, 2)]++;
    for (const a of [3, 5, 7]) expect(counts[a]).toBe(0);
    for (const a of [0, 1, 2, 4, 6, 8, 9]) expect(counts[a] / 80_000).toBeCloseTo(1 / 7, 2);
  });

  it('returns -1 when every item is a positive', () => {
    const items = new Matrix(1, 3);
    const s = new UniformSampler(items, new Rng(5));
    expect(s.draw(0, Int32Array.from([1, 2]), 2)).toBe(-1);
  });
});

describe('WARP sampler', () => {
  it('returns a margin violator weighted by L(floor((|A|-1)/N)), or no update', () => {
    const n = 101;
    const items = new Matrix(1, n);
    // item 0 is the positive with score 10; items 51..100 score 10 (violate), the rest score 0
    items.data[0] = 10;
    for (let a = 51; a < n; a++) items.data[a] = 10;
    const s = new WarpSampler(items, new Rng(6));
    s.setContext(new Float32Array([1]), 0);
    const a = s.draw(0, NO_EXCLUDE, 0);
    expect(a).toBeGreaterThan(50);
    let h = 0;
    for (let j = 1; j <= Math.floor(100 / s.lastTrials); j++) h += 1 / j;
    expect(s.lastWeight).toBeCloseTo(h, 10);
    // no violator: push them down
    for (let a = 51; a < n; a++) items.data[a] = 0;
    expect(s.draw(0, NO_EXCLUDE, 0)).toBe(-1);
    expect(s.stats.noViolator).toBe(1);
    expect(s.lastTrials).toBe(100);
  });

  it('honours max_sampled', () => {
    const items = new Matrix(1, 1000);
    items.data[0] = 10;
    const s = new WarpSampler(items, new Rng(7), 10);
    s.setContext(new Float32Array([1]), 0);
    expect(s.draw(0, NO_EXCLUDE, 0)).toBe(-1);
    expect(s.stats.candidatesScored).toBeLessThanOrEqual(10);
  });
});
