import { dot, type Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

/** L(K) = sum_{j<=K} 1/j, for K up to n. */
function harmonicTable(n: number): Float64Array {
  const h = new Float64Array(n + 1);
  for (let j = 1; j <= n; j++) h[j] = h[j - 1] + 1 / j;
  return h;
}

/**
 * WARP (Weston, Bengio, Usunier 2011): draw uniform non-positive items until one violates the
 * margin (1 + s(neg) > s(pos)), at most maxSampled draws; weight the step by L(floor((|A|-1)/N))
 * for N draws. No violator within the cap: no update (draw returns -1).
 */
export class WarpSampler implements NegativeSampler {
  readonly kind = 'warp' as const;
  readonly stats: SamplerStats = emptyStats();
  lastWeight = 1;
  /** draws the last call needed (N) */
  lastTrials = 0;
  private harmonic: Float64Array = new Float64Array(1);
  private ctx: Float32Array = new Float32Array(0);
  private ctxOffset = 0;

  constructor(
    private readonly items: Matrix,
    private readonly rng: Rng,
    /** cap on draws per step; default |A| - 1 (WARP's own); LightFM's max_sampled is 10 */
    private readonly maxSampled = Number.POSITIVE_INFINITY,
    private readonly margin = 1,
  ) {}

  setContext(vectors: Float32Array, offset: number): void {
    this.ctx = vectors;
    this.ctxOffset = offset;
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    const items = this.items;
    const n = items.rows;
    const k = items.cols;
    const v = items.data;
    if (this.harmonic.length < n) this.harmonic = harmonicTable(n);
    const sPos = dot(this.ctx, this.ctxOffset, v, positive * k, k);
    const cap = Math.min(this.maxSampled, n - 1);
    for (let trials = 1; trials <= cap; trials++) {
      const id = this.rng.nextInt(n);
      if (isExcluded(id, positive, exclude, excludeLength)) {
        this.stats.rejections++;
        continue;
      }
      this.stats.candidatesScored++;
      const sNeg = dot(this.ctx, this.ctxOffset, v, id * k, k);
      if (this.margin + sNeg > sPos) {
        this.lastTrials = trials;
        this.lastWeight = this.harmonic[Math.floor((n - 1) / trials)];
        return id;
      }
    }
    this.lastTrials = cap;
    this.lastWeight = 0;
    this.stats.noViolator++;
    return -1;
  }
}
