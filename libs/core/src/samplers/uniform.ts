import type { Rng } from '../math/rng.js';
import { dot, type Matrix } from '../math/matrix.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

/**
 * A uniformly drawn non-positive item: BPR / "Opt-AUC", the control every comparison needs. With
 * candidates c > 1 it draws c of them, scores each for the context and keeps the hardest: dynamic
 * negative sampling (Zhang et al., SIGIR-13), hard negatives for c dot products per draw.
 */
export class UniformSampler implements NegativeSampler {
  readonly kind = 'uniform' as const;
  readonly stats: SamplerStats = emptyStats();
  readonly lastWeight = 1;
  private ctx: Float32Array = new Float32Array(0);
  private ctxOffset = 0;

  constructor(
    private readonly items: Matrix,
    private readonly rng: Rng,
    private readonly candidates = 1,
    private readonly maxTries = 64,
  ) {}

  setContext(vectors: Float32Array, offset: number): void {
    this.ctx = vectors;
    this.ctxOffset = offset;
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    if (this.candidates <= 1) return this.one(positive, exclude, excludeLength);
    const k = this.items.cols;
    const v = this.items.data;
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.candidates; c++) {
      const id = this.one(positive, exclude, excludeLength);
      if (id < 0) return -1;
      const s = dot(this.ctx, this.ctxOffset, v, id * k, k);
      this.stats.candidatesScored++;
      if (s > bestScore) {
        bestScore = s;
        best = id;
      }
    }
    return best;
  }

  private one(positive: number, exclude: Int32Array, excludeLength: number): number {
    const n = this.items.rows;
    for (let t = 0; t < this.maxTries; t++) {
      const id = this.rng.nextInt(n);
      if (!isExcluded(id, positive, exclude, excludeLength)) return id;
      this.stats.rejections++;
    }
    // positives crowd the item set (tiny vocabularies): scan from a random start instead
    const start = this.rng.nextInt(n);
    for (let j = 0; j < n; j++) {
      const id = (start + j) % n;
      if (!isExcluded(id, positive, exclude, excludeLength)) return id;
    }
    return -1;
  }
}
