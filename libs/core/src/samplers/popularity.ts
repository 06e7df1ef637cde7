import { AliasTable } from '../math/alias.js';
import type { Rng } from '../math/rng.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

export interface PopularityOptions {
  /** exponent on counts: 0.75 in word2vec, 0.5 in fastText, 1 = raw popularity */
  alpha: number;
  /** draws between rebuilds of the alias table from the current counts */
  rebuildEvery: number;
  maxTries?: number;
}

/**
 * Negatives in proportion to count^alpha, with counts that keep growing with the stream. The
 * alias table is rebuilt from the counts on a schedule (never per draw). Items added since the
 * last rebuild are reachable at once: with probability (new items / all items) a draw picks one
 * of them uniformly.
 */
export class PopularitySampler implements NegativeSampler {
  readonly kind = 'popularity' as const;
  readonly stats: SamplerStats = emptyStats();
  readonly lastWeight = 1;
  private table: AliasTable | null = null;
  private sinceRebuild = 0;
  private readonly maxTries: number;

  constructor(
    /** live counts by item id; re-read at every rebuild */
    private readonly counts: () => ArrayLike<number>,
    private readonly rng: Rng,
    private readonly options: PopularityOptions,
  ) {
    if (!(options.rebuildEvery >= 1)) throw new Error('popularity sampler: rebuildEvery must be >= 1');
    this.maxTries = options.maxTries ?? 64;
  }

  rebuild(): void {
    const t0 = performance.now();
    const counts = this.counts();
    const weights = new Float64Array(counts.length);
    for (let i = 0; i < counts.length; i++) weights[i] = Math.pow(Math.max(0, counts[i]), this.options.alpha);
    this.table = counts.length > 0 ? new AliasTable(weights) : null;
    this.sinceRebuild = 0;
    this.stats.refreshes++;
    this.stats.refreshSeconds += (performance.now() - t0) / 1000;
  }

  setContext(): void {
    // popularity ignores the context
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    if (this.table === null || ++this.sinceRebuild >= this.options.rebuildEvery) this.rebuild();
    const table = this.table;
    if (table === null) return -1;
    const n = this.counts().length;
    for (let t = 0; t < this.maxTries; t++) {
      let id: number;
      if (n > table.size && this.rng.nextFloat() * n < n - table.size) {
        id = table.size + this.rng.nextInt(n - table.size);
        this.stats.mixed++;
      } else {
        id = table.sample(this.rng);
      }
      if (!isExcluded(id, positive, exclude, excludeLength)) return id;
      this.stats.rejections++;
    }
    return -1;
  }

  /** Probability of item i in the current table (for tests). */
  probabilityOf(i: number): number {
    if (this.table === null) this.rebuild();
    return this.table === null ? 0 : this.table.probabilityOf(i);
  }
}
