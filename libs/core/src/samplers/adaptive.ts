import { dot, type Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { RankTables, refreshCadence } from './rank-tables.js';
import { emptyStats, isExcluded, type NegativeSampler, type SamplerStats } from './sampler.js';

export interface AdaptiveOptions {
  /**
   * λ of p(rank r) ∝ exp(-r/λ), in rank units (a float: integer division here turned the
   * published samplers uniform or divided by zero). Either this or lambdaFraction.
   */
  lambda?: number;
  /** λ as a fraction of |A|, recomputed at every refresh (VSE-ens tuned 0.001..1; 0.1-0.3 was best here) */
  lambdaFraction?: number;
  /** draws between refreshes; default ceil(|A| ln |A|) at each refresh (the paper's cadence) */
  refreshEvery?: number;
  /** refresh automatically on cadence inside draw(); services turn this off and refresh off the hot path */
  autoRefresh?: boolean;
  /** redraws after hitting a positive before falling back */
  maxRetries?: number;
  /** share of draws taken from the fallback sampler on purpose (streams: keeps exploring; 0.05 typical) */
  mixShare?: number;
  /**
   * candidates per draw: 1 is the paper's sampler; c > 1 draws c candidates from the tables,
   * scores them exactly (c dot products) and keeps the hardest (our improvement)
   */
  candidates?: number;
}

/**
 * The adaptive rank-based, factor-wise sampler of AOBPR (Rendle & Freudenthaler 2014) as used by
 * VSE-ens (AAAI-18) and by Chen et al. (WSDM-18) for skip-gram. It draws negatives with
 * probability decaying in their predicted rank without scoring all items:
 *   rank r ~ 1 + floor(-λ ln U);  dimension f ~ |u_f| σ_f;
 *   item = r-th largest in dimension f if u_f > 0, else r-th smallest.
 * The per-dimension sorted lists (rank tables) and σ are rebuilt every refreshEvery draws.
 */
export class AdaptiveSampler implements NegativeSampler {
  readonly kind = 'adaptive' as const;
  readonly stats: SamplerStats = emptyStats();
  readonly lastWeight = 1;

  private readonly tables: RankTables;
  /** cumulative dimension weights |u_f| σ_f of the current context */
  private readonly cumulative: Float64Array;
  private contextTotal = 0;
  private ctx: Float32Array = new Float32Array(0);
  private ctxOffset = 0;
  private sinceRefresh = 0;
  private currentRefreshEvery = 1;
  private currentLambda = 1;
  private readonly maxRetries: number;
  private readonly mixShare: number;
  private readonly candidates: number;
  private readonly autoRefresh: boolean;

  constructor(
    private readonly items: Matrix,
    private readonly rng: Rng,
    /** used for the mixed-in share, for unusable contexts and after maxRetries */
    private readonly fallback: NegativeSampler,
    private readonly options: AdaptiveOptions,
  ) {
    if (options.lambda === undefined && options.lambdaFraction === undefined) {
      throw new Error('adaptive sampler: set lambda or lambdaFraction');
    }
    const lambdaCheck = options.lambda ?? options.lambdaFraction ?? 0;
    if (!(lambdaCheck > 0) || !Number.isFinite(lambdaCheck)) {
      throw new Error(`adaptive sampler: lambda must be a positive finite number, got ${lambdaCheck}`);
    }
    this.maxRetries = options.maxRetries ?? 10;
    this.mixShare = options.mixShare ?? 0;
    this.candidates = Math.max(1, Math.floor(options.candidates ?? 1));
    this.autoRefresh = options.autoRefresh ?? true;
    this.tables = RankTables.onHeap(items.cols, items.cols);
    this.cumulative = new Float64Array(items.cols);
  }

  /** λ in force (rank units). */
  get lambda(): number {
    return this.currentLambda;
  }

  /** Draws between refreshes in force. */
  get refreshEvery(): number {
    return this.currentRefreshEvery;
  }

  /** Items the tables know (items added later are reached through the new-item share). */
  get indexedItems(): number {
    return this.tables.size;
  }

  /** True when the cadence says the tables are due (used when autoRefresh is off). */
  get refreshDue(): boolean {
    return this.tables.size === 0 || this.sinceRefresh >= this.currentRefreshEvery;
  }

  /** σ_f of the last refresh (a copy, for tests and diagnostics). */
  sigmas(): Float32Array {
    return this.tables.sigma.slice(0, this.items.cols);
  }

  /** Re-sorts the rank tables from their previous order and recomputes σ (see RankTables). */
  refresh(): void {
    const n = this.items.rows;
    this.currentLambda = this.options.lambda ?? Math.max(1e-9, (this.options.lambdaFraction ?? 0) * n);
    // ranks beyond 10λ have probability e^-10: only both ends of each list need exact order
    this.tables.refresh(this.items.data, this.items.cols, n, 10 * this.currentLambda + 1);
    this.currentRefreshEvery = this.options.refreshEvery ?? refreshCadence(n);
    this.sinceRefresh = 0;
    this.stats.refreshes = this.tables.refreshes;
    this.stats.refreshSeconds = this.tables.refreshSeconds;
  }

  setContext(vectors: Float32Array, offset: number): void {
    this.ctx = vectors;
    this.ctxOffset = offset;
    this.fallback.setContext(vectors, offset);
    const k = this.items.cols;
    const sigma = this.tables.sigma;
    let total = 0;
    for (let f = 0; f < k; f++) {
      total += Math.abs(vectors[offset + f]) * sigma[f];
      this.cumulative[f] = total;
    }
    this.contextTotal = total;
  }

  /** A 0-based rank from the truncated exponential p(r) ∝ exp(-(r+1)/λ), r < n. */
  sampleRank(n: number): number {
    const lambda = this.currentLambda;
    for (let t = 0; t < 32; t++) {
      const r = Math.floor(-lambda * Math.log(this.rng.nextFloatOpenZero()));
      if (r < n) return r;
    }
    // λ far above n makes the distribution nearly flat: uniform is its limit
    return this.rng.nextInt(n);
  }

  /** A dimension with probability |u_f| σ_f / Σ_g |u_g| σ_g for the current context. */
  sampleDimension(): number {
    const target = this.rng.nextFloat() * this.contextTotal;
    const cum = this.cumulative;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The item at 0-based rank r of dimension f for the current context's sign of u_f. */
  itemAt(f: number, r: number): number {
    // u_f > 0: the r-th largest; otherwise the r-th smallest, 1-based position |A| - r + 1
    return this.tables.item(f, r, this.ctx[this.ctxOffset + f]);
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    this.sinceRefresh++;
    if (this.autoRefresh && this.refreshDue) this.refresh();
    const n = this.tables.size;
    const total = this.items.rows;
    if (n === 0 || !(this.contextTotal > 0) || (this.mixShare > 0 && this.rng.nextFloat() < this.mixShare)) {
      this.stats.mixed++;
      return this.fallback.draw(positive, exclude, excludeLength);
    }
    if (total > n && this.rng.nextFloat() * total < total - n) {
      // items added since the last refresh: reachable now, in their uniform share
      const id = n + this.rng.nextInt(total - n);
      if (!isExcluded(id, positive, exclude, excludeLength)) {
        this.stats.mixed++;
        return id;
      }
    }
    const k = this.items.cols;
    const v = this.items.data;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < this.candidates; c++) {
        const id = this.itemAt(this.sampleDimension(), this.sampleRank(n));
        if (isExcluded(id, positive, exclude, excludeLength)) {
          this.stats.rejections++;
          continue;
        }
        if (this.candidates === 1) return id;
        const score = dot(this.ctx, this.ctxOffset, v, id * k, k);
        if (score > bestScore) {
          bestScore = score;
          best = id;
        }
      }
      if (best >= 0) return best;
    }
    this.stats.fallbacks++;
    return this.fallback.draw(positive, exclude, excludeLength);
  }

  /**
   * Staleness of the tables: the share of adjacent pairs, over `dims` sampled dimensions, that the
   * current vectors order differently from the table. 0 right after a refresh.
   */
  staleness(dims = 8): number {
    return this.tables.staleness(this.items.data, this.items.cols, dims, (k) => this.rng.nextInt(k));
  }
}
