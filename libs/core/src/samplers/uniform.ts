import type { Rng } from '../math/rng.js';
import type { Matrix } from '../math/matrix.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

/** A uniformly drawn non-positive item: BPR / "Opt-AUC"; the control every comparison needs. */
export class UniformSampler implements NegativeSampler {
  readonly kind = 'uniform' as const;
  readonly stats: SamplerStats = emptyStats();
  readonly lastWeight = 1;

  constructor(
    private readonly items: Matrix,
    private readonly rng: Rng,
    private readonly maxTries = 64,
  ) {}

  setContext(): void {
    // uniform draws ignore the context
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
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
