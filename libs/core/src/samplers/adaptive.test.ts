import { describe, expect, it } from 'vitest';
import { Matrix } from '../math/matrix.js';
import { Rng } from '../math/rng.js';
import { AdaptiveSampler } from './adaptive.js';
import { NO_EXCLUDE } from './sampler.js';
import { UniformSampler } from './uniform.js';

/** Items whose dimension 0 holds value n-1-id: id 0 is the largest, id n-1 the smallest. */
function rankedItems(n: number, k = 1): Matrix {
  const m = new Matrix(k, n);
  for (let a = 0; a < n; a++) m.data[a * k] = n - 1 - a;
  return m;
}

function sampler(items: Matrix, rng: Rng, opts: ConstructorParameters<typeof AdaptiveSampler>[3]): AdaptiveSampler {
  return new AdaptiveSampler(items, rng, new UniformSampler(items, rng), opts);
}

describe('adaptive sampler: the traps of samplers.md', () => {
  it('draws ranks from exp(-r/λ) with a float λ (no integer division, no steps)', () => {
    const rng = new Rng(1);
    const n = 10_000;
    const s = sampler(rankedItems(n), rng, { lambda: 3.7 });
    s.refresh();
    const draws = 200_000;
    const hist = new Float64Array(12);
    let sum = 0;
    for (let i = 0; i < draws; i++) {
      const r = s.sampleRank(n);
      sum += r;
      if (r < hist.length) hist[r]++;
    }
    // 0-based r = floor(-λ ln U) is geometric with q = exp(-1/λ): mean q / (1 - q)
    const q = Math.exp(-1 / 3.7);
    expect(sum / draws).toBeCloseTo(q / (1 - q), 1);
    // successive ratios equal q: an integer λ (3) would give 0.717, integer 1/λ steps give 1 or 0
    for (let r = 0; r < 6; r++) expect(hist[r + 1] / hist[r]).toBeGreaterThan(q - 0.03);
    for (let r = 0; r < 6; r++) expect(hist[r + 1] / hist[r]).toBeLessThan(q + 0.03);
  });

  it('runs with λ = 0.001·|A| < 1 on a small label set (the authors code divided by zero at 291 labels)', () => {
    const rng = new Rng(2);
    const n = 291;
    const s = sampler(rankedItems(n), rng, { lambdaFraction: 0.001 });
    s.refresh();
    expect(s.lambda).toBeCloseTo(0.291, 6);
    const ctx = new Float32Array([1]);
    s.setContext(ctx, 0);
    let top = 0;
    for (let i = 0; i < 1000; i++) if (s.draw(-1, NO_EXCLUDE, 0) === 0) top++;
    // λ = 0.291: P(r = 0) = 1 - exp(-1/0.291) ≈ 0.968
    expect(top / 1000).toBeGreaterThan(0.94);
  });

  it('takes the top of a list for u_f > 0 and the bottom for u_f < 0 (sign handling, no off-by-one)', () => {
    const rng = new Rng(3);
    const n = 50;
    const s = sampler(rankedItems(n), rng, { lambda: 1e-6 });
    s.refresh();
    s.setContext(new Float32Array([2]), 0);
    expect(s.draw(-1, NO_EXCLUDE, 0)).toBe(0); // largest value, rank 1 from the top
    s.setContext(new Float32Array([-2]), 0);
    // rank 1 from the bottom is position |A| - 1 + 1 = |A|: the smallest item, id n-1
    expect(s.draw(-1, NO_EXCLUDE, 0)).toBe(n - 1);
  });

  it('prefers hard negatives: drawn items score higher than uniform ones (descending sort)', () => {
    const rng = new Rng(4);
    const n = 2000;
    const k = 16;
    const items = new Matrix(k, n);
    items.fillGaussian({ start: 0, end: n }, 1, () => rng.nextGaussian());
    const s = sampler(items, rng, { lambdaFraction: 0.02 });
    s.refresh();
    const ctx = new Float32Array(k);
    let adaptiveMean = 0;
    let uniformMean = 0;
    const contexts = 50;
    for (let c = 0; c < contexts; c++) {
      for (let f = 0; f < k; f++) ctx[f] = rng.nextGaussian();
      s.setContext(ctx, 0);
      for (let d = 0; d < 100; d++) {
        const a = s.draw(-1, NO_EXCLUDE, 0);
        const b = rng.nextInt(n);
        for (let f = 0; f < k; f++) {
          adaptiveMean += ctx[f] * items.data[a * k + f];
          uniformMean += ctx[f] * items.data[b * k + f];
        }
      }
    }
    adaptiveMean /= contexts * 100;
    uniformMean /= contexts * 100;
    expect(uniformMean).toBeLessThan(0.5);
    expect(adaptiveMean).toBeGreaterThan(uniformMean + 2);
  });

  it('weights dimensions by |u_f|·σ_f with σ the standard deviation, not the variance', () => {
    const rng = new Rng(5);
    const n = 1000;
    const items = new Matrix(2, n);
    // dim 0: std 2 (variance 4); dim 1: std 0.5 (variance 0.25)
    for (let a = 0; a < n; a++) {
      items.data[a * 2] = a % 2 === 0 ? 2 : -2;
      items.data[a * 2 + 1] = a % 2 === 0 ? 0.5 : -0.5;
    }
    const s = sampler(items, rng, { lambdaFraction: 0.1 });
    s.refresh();
    expect(s.sigmas()[0]).toBeCloseTo(2, 5);
    expect(s.sigmas()[1]).toBeCloseTo(0.5, 5);
    s.setContext(new Float32Array([1, 1]), 0);
    let dim0 = 0;
    const trials = 100_000;
    for (let i = 0; i < trials; i++) if (s.sampleDimension() === 0) dim0++;
    // std weighting: 2 / 2.5 = 0.8; variance weighting would give 4 / 4.25 = 0.94
    expect(dim0 / trials).toBeGreaterThan(0.79);
    expect(dim0 / trials).toBeLessThan(0.81);
  });

  it('reaches both ends of every list', () => {
    const rng = new Rng(6);
    const n = 40;
    const s = sampler(rankedItems(n), rng, { lambda: 400 });
    s.refresh();
    const seen = new Set<number>();
    for (const sign of [1, -1]) {
      s.setContext(new Float32Array([sign]), 0);
      for (let i = 0; i < 20_000; i++) seen.add(s.draw(-1, NO_EXCLUDE, 0));
    }
    expect(seen.has(0)).toBe(true);
    expect(seen.has(n - 1)).toBe(true);
    expect(seen.size).toBe(n);
  });

  it('never returns the positive or a known positive, even when they hold the top ranks', () => {
    const rng = new Rng(7);
    const n = 30;
    const s = sampler(rankedItems(n), rng, { lambda: 0.5 });
    s.refresh();
    s.setContext(new Float32Array([1]), 0);
    const exclude = Int32Array.from([1, 2, 3]);
    for (let i = 0; i < 5000; i++) {
      const a = s.draw(0, exclude, exclude.length);
      expect(a).toBeGreaterThanOrEqual(4);
    }
    // λ = 0.5 puts nearly all mass on ids 0..3: the retries end in the counted uniform fallback
    expect(s.stats.rejections).toBeGreaterThan(0);
    expect(s.stats.fallbacks).toBeGreaterThan(0);
  });

  it('refreshes every ceil(|A| ln |A|) draws, not on every draw', () => {
    const rng = new Rng(8);
    const n = 100;
    const s = sampler(rankedItems(n), rng, { lambdaFraction: 0.1 });
    s.setContext(new Float32Array([1]), 0);
    const every = Math.ceil(n * Math.log(n)); // 461
    const draws = every * 5 + 10;
    for (let i = 0; i < draws; i++) s.draw(-1, NO_EXCLUDE, 0);
    expect(s.refreshEvery).toBe(every);
    // the first draw builds the tables, then one refresh per `every` draws
    expect(s.stats.refreshes).toBe(1 + Math.floor((draws - 1) / every));
  });

  it('honours a configured refresh cadence', () => {
    const rng = new Rng(9);
    const s = sampler(rankedItems(100), rng, { lambdaFraction: 0.1, refreshEvery: 50 });
    s.setContext(new Float32Array([1]), 0);
    for (let i = 0; i < 1000; i++) s.draw(-1, NO_EXCLUDE, 0);
    expect(s.stats.refreshes).toBe(1 + Math.floor(999 / 50));
  });

  it('reaches items added after the last refresh before the next one', () => {
    const rng = new Rng(10);
    const items = rankedItems(100);
    const s = sampler(items, rng, { lambdaFraction: 0.1, refreshEvery: 1_000_000 });
    s.refresh();
    items.addRows(10);
    s.setContext(new Float32Array([1]), 0);
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) seen.add(s.draw(-1, NO_EXCLUDE, 0));
    for (let a = 100; a < 110; a++) expect(seen.has(a)).toBe(true);
    expect(s.stats.refreshes).toBe(1);
  });

  it('keeps the tables exact after a refresh and measures staleness as vectors move', () => {
    const rng = new Rng(11);
    const n = 500;
    const k = 4;
    const items = new Matrix(k, n);
    items.fillGaussian({ start: 0, end: n }, 1, () => rng.nextGaussian());
    const s = sampler(items, rng, { lambdaFraction: 0.1 });
    s.refresh();
    expect(s.staleness(4)).toBe(0);
    for (let i = 0; i < items.data.length; i++) items.data[i] += rng.nextGaussian() * 0.5;
    expect(s.staleness(4)).toBeGreaterThan(0.05);
    s.refresh();
    expect(s.staleness(4)).toBe(0);
  });

  it('with candidates > 1 keeps the hardest of the re-scored draws', () => {
    const rng = new Rng(12);
    const n = 1000;
    const k = 8;
    const items = new Matrix(k, n);
    items.fillGaussian({ start: 0, end: n }, 1, () => rng.nextGaussian());
    const plain = sampler(items, new Rng(13), { lambdaFraction: 0.1 });
    const rescored = sampler(items, new Rng(13), { lambdaFraction: 0.1, candidates: 4 });
    plain.refresh();
    rescored.refresh();
    const ctx = new Float32Array(k);
    let plainMean = 0;
    let rescoredMean = 0;
    for (let c = 0; c < 200; c++) {
      for (let f = 0; f < k; f++) ctx[f] = rng.nextGaussian();
      plain.setContext(ctx, 0);
      rescored.setContext(ctx, 0);
      for (let d = 0; d < 10; d++) {
        const a = plain.draw(-1, NO_EXCLUDE, 0);
        const b = rescored.draw(-1, NO_EXCLUDE, 0);
        for (let f = 0; f < k; f++) {
          plainMean += ctx[f] * items.data[a * k + f];
          rescoredMean += ctx[f] * items.data[b * k + f];
        }
      }
    }
    expect(rescoredMean).toBeGreaterThan(plainMean * 1.2);
  });

  it('rejects a λ that is zero, negative or missing', () => {
    const rng = new Rng(14);
    const items = rankedItems(10);
    expect(() => sampler(items, rng, { lambda: 0 })).toThrow(/lambda/);
    expect(() => sampler(items, rng, { lambdaFraction: -1 })).toThrow(/lambda/);
    expect(() => sampler(items, rng, {})).toThrow(/lambda/);
  });
});
