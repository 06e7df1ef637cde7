import { partialSortIdsByKeyDesc } from '../math/sort.js';

/**
 * Where a set of rank tables lives: `dims` lists of item ids, list f at ids[f * stride ..), plus
 * σ per dimension. The TypeScript sampler keeps them on the JS heap; the WebAssembly kernels keep
 * them in their memory and hand views of it here, so both refresh through one implementation.
 */
export interface RankTableStorage {
  ids: Int32Array;
  /** items per list the storage has room for */
  stride: number;
  /** σ_f, length >= dims (padding lanes stay 0, so they are never drawn) */
  sigma: Float32Array;
}

/**
 * The state of the factor-wise rank sampler (AOBPR, VSE-ens, Chen et al.): for every dimension f,
 * the item ids sorted by their value in f (descending), and σ_f, the standard deviation of column f
 * (the std, not the variance: LibRec and the VSE-ens code weighted by the variance).
 *
 * A refresh re-sorts each list starting from its previous order (nearly sorted after a few SGD
 * steps: 6-10x cheaper than sorting from label order) and only exactly at both ends (ranks beyond
 * 10λ are drawn with probability e^-10). Items added since the last refresh are appended to every
 * list first, so ids are never lost or duplicated.
 */
export class RankTables {
  /** items the lists hold (the sampler draws only these from the tables) */
  size = 0;
  refreshes = 0;
  refreshSeconds = 0;
  private columns: Float32Array = new Float32Array(0);
  private keys: Float32Array = new Float32Array(0);

  constructor(
    /** dimensions with a list (a row's real components, bias lane included) */
    readonly dims: number,
    private storage: RankTableStorage,
    /** heap tables grow their stride on demand; tables in a kernel's memory have a fixed one */
    private readonly growable: boolean,
  ) {}

  /** Heap-backed tables (the TypeScript sampler's). */
  static onHeap(dims: number, width: number): RankTables {
    return new RankTables(dims, { ids: new Int32Array(0), stride: 0, sigma: new Float32Array(width) }, true);
  }

  get ids(): Int32Array {
    return this.storage.ids;
  }

  get stride(): number {
    return this.storage.stride;
  }

  get sigma(): Float32Array {
    return this.storage.sigma;
  }

  /** Makes room for n items per list, appending ids size..n-1 to every list. */
  private grow(n: number): void {
    const dims = this.dims;
    if (n > this.storage.stride) {
      if (!this.growable) throw new Error(`rank tables: ${n} items exceed the reserved ${this.storage.stride}`);
      const stride = Math.max(n, this.storage.stride * 2, 16);
      const grown = new Int32Array(dims * stride);
      for (let f = 0; f < dims; f++) grown.set(this.storage.ids.subarray(f * this.storage.stride, f * this.storage.stride + this.size), f * stride);
      this.storage = { ...this.storage, ids: grown, stride };
    }
    const { ids, stride } = this.storage;
    for (let f = 0; f < dims; f++) for (let r = this.size; r < n; r++) ids[f * stride + r] = r;
    this.size = n;
  }

  /**
   * Re-sorts every list for items[0..n) (row r at r * width) and recomputes σ. `exactRanks`: how
   * deep each end must be exactly sorted (10λ in the sampler). The vectors are first transposed
   * in one sequential pass: gathering a dimension's keys straight from the row-major matrix
   * missed the cache on every read and made refreshes 5-10x slower.
   */
  refresh(items: Float32Array, width: number, n: number, exactRanks: number): void {
    const t0 = performance.now();
    if (n > this.size) this.grow(n);
    const dims = this.dims;
    if (this.columns.length < dims * n) this.columns = new Float32Array(dims * n);
    if (this.keys.length < n) this.keys = new Float32Array(n);
    const cols = this.columns;
    const keys = this.keys;
    for (let r = 0; r < n; r++) {
      const base = r * width;
      for (let f = 0; f < dims; f++) cols[f * n + r] = items[base + f];
    }
    const { ids, stride, sigma } = this.storage;
    const exact = Math.min(n, Math.max(1, Math.ceil(exactRanks)));
    for (let f = 0; f < dims; f++) {
      const off = f * n;
      const list = ids.subarray(f * stride, f * stride + n);
      for (let r = 0; r < n; r++) keys[r] = cols[off + list[r]];
      partialSortIdsByKeyDesc(list, keys, n, exact);
      let sum = 0;
      let sq = 0;
      for (let r = 0; r < n; r++) {
        const x = cols[off + r];
        sum += x;
        sq += x * x;
      }
      const mean = sum / n;
      sigma[f] = Math.sqrt(Math.max(0, sq / n - mean * mean));
    }
    this.refreshes++;
    this.refreshSeconds += (performance.now() - t0) / 1000;
  }

  /** The item at 0-based rank r of list f: r-th largest when the context's u_f > 0, else r-th smallest. */
  item(f: number, r: number, uf: number): number {
    const n = this.size;
    return this.storage.ids[f * this.storage.stride + (uf > 0 ? r : n - 1 - r)];
  }

  /**
   * Staleness: the share of adjacent pairs, over `sampleDims` dimensions drawn by `pick`, that the
   * current vectors order differently from the lists. 0 right after a refresh.
   */
  staleness(items: Float32Array, width: number, sampleDims: number, pick: (dims: number) => number): number {
    const n = this.size;
    if (n < 2) return 0;
    const { ids, stride } = this.storage;
    let inverted = 0;
    let pairs = 0;
    for (let d = 0; d < Math.min(sampleDims, this.dims); d++) {
      const f = pick(this.dims);
      const base = f * stride;
      for (let r = 1; r < n; r++) {
        if (items[ids[base + r] * width + f] > items[ids[base + r - 1] * width + f]) inverted++;
        pairs++;
      }
    }
    return inverted / pairs;
  }
}

/** Draws between refreshes by the papers' cadence: ceil(|A| ln |A|). */
export function refreshCadence(items: number): number {
  return Math.max(1, Math.ceil(items * Math.log(Math.max(items, 2))));
}
