import { dot, type Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { partialSortIdsByKeyDesc } from '../math/sort.js';
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

  /** tables[f * tableSize + r] = id of the item with the (r+1)-th largest value in dimension f */
  private tables: Int32Array = new Int32Array(0);
  private tableSize = 0;
  private readonly sigma: Float64Array;
  private keys: Float32Array = new Float32Array(0);
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
    this.sigma = new Float64Array(items.cols);
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
    return this.tableSize;
  }

  /** True when the cadence says the tables are due (used when autoRefresh is off). */
  get refreshDue(): boolean {
    return this.tableSize === 0 || this.sinceRefresh >= this.currentRefreshEvery;
  }

  /** σ_f of the last refresh (a copy, for tests and diagnostics). */
  sigmas(): Float64Array {
    return this.sigma.slice();
  }

  /**
   * Re-sorts every dimension's list starting from its previous order (nearly sorted after a few
   * SGD steps, so insertion sort does little work) and recomputes σ (the std, not the variance).
   */
  refresh(): void {
    const t0 = performance.now();
    const n = this.items.rows;
    const k = this.items.cols;
    const v = this.items.data;
    if (n !== this.tableSize) this.growTables(n);
    if (this.keys.length < n) this.keys = new Float32Array(n);
    const keys = this.keys;
    this.currentLambda = this.options.lambda ?? Math.max(1e-9, (this.options.lambdaFraction ?? 0) * n);
    // ranks beyond 10λ have probability e^-10: only both ends of each list need exact order
    const exact = Math.min(n, Math.ceil(10 * this.currentLambda) + 1);
    for (let f = 0; f < k; f++) {
      const base = f * n;
      for (let r = 0; r < n; r++) keys[r] = v[this.tables[base + r] * k + f];
      partialSortIdsByKeyDesc(this.tables.subarray(base, base + n), keys, n, exact);
    }
    this.computeSigma(n, k, v);
    this.currentRefreshEvery = this.options.refreshEvery ?? Math.max(1, Math.ceil(n * Math.log(Math.max(n, 2))));
    this.sinceRefresh = 0;
    this.stats.refreshes++;
    this.stats.refreshSeconds += (performance.now() - t0) / 1000;
  }

  private growTables(n: number): void {
    const k = this.items.cols;
    const old = this.tables;
    const oldSize = this.tableSize;
    const grown = new Int32Array(k * n);
    for (let f = 0; f < k; f++) {
      // keep the previous order (nearly sorted) and append the new items at the end
      if (oldSize > 0) grown.set(old.subarray(f * oldSize, f * oldSize + Math.min(oldSize, n)), f * n);
      for (let r = Math.min(oldSize, n); r < n; r++) grown[f * n + r] = r;
    }
    this.tables = grown;
    this.tableSize = n;
  }

  private computeSigma(n: number, k: number, v: Float32Array): void {
    const mean = new Float64Array(k);
    const sq = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      const off = r * k;
      for (let f = 0; f < k; f++) {
        const x = v[off + f];
        mean[f] += x;
        sq[f] += x * x;
      }
    }
    for (let f = 0; f < k; f++) {
      const m = mean[f] / n;
      this.sigma[f] = Math.sqrt(Math.max(0, sq[f] / n - m * m));
    }
  }

  setContext(vectors: Float32Array, offset: number): void {
    this.ctx = vectors;
    this.ctxOffset = offset;
    this.fallback.setContext(vectors, offset);
    const k = this.items.cols;
    let total = 0;
    for (let f = 0; f < k; f++) {
      total += Math.abs(vectors[offset + f]) * this.sigma[f];
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
    const n = this.tableSize;
    // u_f > 0: the r-th largest; otherwise the r-th smallest, 1-based position |A| - r + 1
    return this.ctx[this.ctxOffset + f] > 0 ? this.tables[f * n + r] : this.tables[f * n + (n - 1 - r)];
  }

  draw(positive: number, exclude: Int32Array, excludeLength: number): number {
    this.stats.draws++;
    this.sinceRefresh++;
    if (this.autoRefresh && this.refreshDue) this.refresh();
    const n = this.tableSize;
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
    const n = this.tableSize;
    const k = this.items.cols;
    if (n < 2) return 0;
    const v = this.items.data;
    let inverted = 0;
    let pairs = 0;
    for (let d = 0; d < Math.min(dims, k); d++) {
      const f = this.rng.nextInt(k);
      const base = f * n;
      for (let r = 1; r < n; r++) {
        if (v[this.tables[base + r] * k + f] > v[this.tables[base + r - 1] * k + f]) inverted++;
        pairs++;
      }
    }
    return inverted / pairs;
  }
}
