import type { ImageLabelModel } from '@freshet/core';
import type { VseKernel } from '@freshet/kernels';

/**
 * Least-recently-seen eviction of images at the image cap: a stream of new images never ends,
 * and a model that refuses every new image once full stops covering the stream (Monolith's
 * expirable embeddings make the same choice). When a new image arrives and every row is taken,
 * the `batch` images seen longest ago (by event time) give their rows up at once: their names,
 * positives and replayed pairs go, and each row starts fresh for the image that takes it. One
 * batch costs a pass over the rows and over the replay memory, so it is done rarely (a batch of
 * 1% of the cap by default). Evicted names are reported, and published as deletions.
 */
export class ImageEviction {
  /** event time (ms) each image row was last seen; 0: free */
  private lastSeen = new Float64Array(1024);
  /** names evicted since the last drain (published as deletions unless they came back) */
  private readonly evictedNames = new Set<string>();
  /** rows a new image took since the last drain (published: their vectors are new) */
  private readonly reused = new Set<number>();
  /** rows freed since the last drain (an incremental checkpoint must hold them: their names and positives went) */
  private readonly freed = new Set<number>();
  evictions = 0;

  constructor(
    private readonly model: ImageLabelModel,
    private readonly kernel: VseKernel,
    private readonly batch: number,
  ) {}

  /** The row of an image seen at `time`, making room first when the cap is reached; -1 only if no row can be freed. */
  imageFor(name: string, time: number): number {
    const images = this.model.images;
    let id = images.idOf(name);
    if (id < 0) {
      if (images.full) this.evict();
      const before = images.size;
      id = this.model.imageId(name);
      if (id < 0) return -1;
      if (id < before) this.reused.add(id);
      this.evictedNames.delete(name);
    }
    if (id >= this.lastSeen.length) this.grow(id + 1);
    this.lastSeen[id] = Math.max(this.lastSeen[id], time, 1);
    return id;
  }

  /** Frees the `batch` least recently seen rows. */
  private evict(): void {
    const images = this.model.images;
    const n = images.size;
    const count = Math.max(1, Math.min(this.batch, n));
    // the count-th smallest last-seen time: every live row at or below it goes (ties may add a few)
    const times = Float64Array.from(this.lastSeen.subarray(0, n)).sort();
    const cut = times[count - 1];
    const evicted = new Uint8Array(n);
    const names = images.allNames();
    let freed = 0;
    for (let id = 0; id < n && freed < count; id++) {
      if (names[id] === '' || this.lastSeen[id] > cut) continue;
      this.evictedNames.add(names[id]);
      this.reused.delete(id);
      this.freed.add(id);
      this.model.evictImage(id);
      this.lastSeen[id] = 0;
      evicted[id] = 1;
      freed++;
    }
    // their pairs leave the replay memory: a row reused by a new image must not be trained on the old one's labels
    const pairs = this.kernel.replayPairs();
    for (let j = 0; j < pairs.length; j += 2) if (pairs[j] >= 0 && evicted[pairs[j]] === 1) pairs[j] = -1;
    this.evictions += freed;
  }

  /** Names evicted and not back, rows taken by new images and rows freed, since the last call. */
  drain(): { deleted: string[]; reused: number[]; freed: number[] } {
    const out = { deleted: [...this.evictedNames], reused: [...this.reused], freed: [...this.freed] };
    this.evictedNames.clear();
    this.reused.clear();
    this.freed.clear();
    return out;
  }

  /** The last-seen times as they are (a view: read it before the next event). */
  times(): Float64Array {
    return this.lastSeen.subarray(0, this.model.images.size);
  }

  /** Last-seen times for a checkpoint, and back (older checkpoints have none: every row counts as seen at 1). */
  export(): Float64Array {
    return this.lastSeen.slice(0, this.model.images.size);
  }

  restore(times: Float64Array | undefined): void {
    const n = this.model.images.size;
    this.grow(n);
    const names = this.model.images.allNames();
    for (let id = 0; id < n; id++) this.lastSeen[id] = names[id] === '' ? 0 : (times?.[id] ?? 1);
  }

  private grow(size: number): void {
    if (size <= this.lastSeen.length) return;
    const grown = new Float64Array(Math.max(size, this.lastSeen.length * 2));
    grown.set(this.lastSeen);
    this.lastSeen = grown;
  }
}
