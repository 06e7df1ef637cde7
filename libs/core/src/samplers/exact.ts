import { dot, type Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { sortIdsByKeyDesc } from '../math/sort.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

/**
 * The exact rank sampler the factor-wise one approximates: scores every item for the context,
 * sorts, and draws rank r with p(r) ∝ exp(-r/λ). O(|A| k + |A| log |A|) per context: a reference
 * for draw quality and for tests, not for training at scale.
 */
export class ExactRankSampler implements NegativeSampler {
  readonly kind = 'exact' as const;
  readonly stats: SamplerStats = emptyStats();
  readonly lastWeight = 1;
  private order: Int32Array = new Int32Array(0);
  private scores: Float32Array = new Float32Array(0);
  private n = 0;

  constructor(
    private readonly items: Matrix,
    private readonly rng: Rng,
    private readonly lambdaFraction: number,
    private readonly maxRetries = 64,
  ) {
    if (!(lambdaFraction > 0)) throw new Error('exact sampler: lambdaFraction must be > 0');
  }

  setContext(vectors: Float32Array, offset: number): void {
    const n = this.items.rows;
    const k = this.items.cols;
    const v = this.items.data;
    if (this.order.length < n) {
      this.order = new Int32Array(n);
      this.scores = new Float32Array(n);
    }
    for (let a = 0; a < n; a++) {
      this.order[a] = a;
      this.scores[a] = dot(vectors, offset, v, a * k, k);
    }
    sortIdsByKeyDesc(this.order, this.scores, n, 0);
    this.n = n;
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    const lambda = this.lambdaFraction * this.n;
    for (let t = 0; t < this.maxRetries; t++) {
      const r = Math.floor(-lambda * Math.log(this.rng.nextFloatOpenZero()));
      if (r >= this.n) continue;
      const id = this.order[r];
      if (!isExcluded(id, positive, exclude, excludeLength)) return id;
      this.stats.rejections++;
    }
    return -1;
  }
}
