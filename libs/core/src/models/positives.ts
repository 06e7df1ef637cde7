/**
 * The positive labels of every image, in a layout the WebAssembly kernel reads directly: a header
 * of two int32 per image (offset into the arena, count) and an arena of label ids. An image's list
 * lives in a block of 4, 8, 16, ... slots; when it fills, the list moves to a block twice as large
 * and the old block goes to a free list of its size. Only one thread writes (the trainer's main
 * thread); training threads read concurrently, so a header is published with Atomics after the
 * block it points to is filled, and a reader sees either the old list or the new one.
 *
 * On the JS heap (the TypeScript reference) the arrays grow by reallocation; in a kernel's memory
 * they are views of reserved regions and cannot, so a full arena refuses further positives.
 */
export class PositiveStore {
  private header: Int32Array;
  private arena: Int32Array;
  private next = 0;
  private readonly free = new Map<number, number[]>();
  /** positives refused because a fixed arena was full */
  refused = 0;

  constructor(
    storage: { header: Int32Array; arena: Int32Array },
    private readonly growable: boolean,
  ) {
    this.header = storage.header;
    this.arena = storage.arena;
  }

  static onHeap(): PositiveStore {
    return new PositiveStore({ header: new Int32Array(2 * 1024), arena: new Int32Array(4096) }, true);
  }

  /** Arena slots in use (blocks handed out, free or not). */
  get arenaUsed(): number {
    return this.next;
  }

  count(image: number): number {
    return 2 * image + 1 < this.header.length ? this.header[2 * image + 1] : 0;
  }

  /** The positives of an image (a view: copy it to keep it across later additions). */
  list(image: number): Int32Array {
    const n = this.count(image);
    if (n === 0) return EMPTY;
    const at = this.header[2 * image];
    return this.arena.subarray(at, at + n);
  }

  has(image: number, label: number): boolean {
    const n = this.count(image);
    const at = n > 0 ? this.header[2 * image] : 0;
    for (let j = 0; j < n; j++) if (this.arena[at + j] === label) return true;
    return false;
  }

  /** Adds a positive; false when it was known already, or when a fixed arena has no room (counted). */
  add(image: number, label: number): boolean {
    if (this.has(image, label)) return false;
    this.ensureHeader(image);
    const n = this.header[2 * image + 1];
    const at = this.header[2 * image];
    const capacity = n === 0 ? 0 : blockSize(n);
    if (n < capacity) {
      this.arena[at + n] = label;
      Atomics.store(this.header, 2 * image + 1, n + 1);
      return true;
    }
    const block = this.allocate(blockSize(n + 1));
    if (block < 0) {
      this.refused++;
      return false;
    }
    this.arena.copyWithin(block, at, at + n);
    this.arena[block + n] = label;
    // the new block is complete before the header points at it; the count follows the offset
    Atomics.store(this.header, 2 * image, block);
    Atomics.store(this.header, 2 * image + 1, n + 1);
    if (n > 0) this.release(at, capacity);
    return true;
  }

  /** Empties an image's list (its row was evicted): the block goes to the free list for reuse. */
  clear(image: number): void {
    const n = this.count(image);
    if (n === 0) return;
    const at = this.header[2 * image];
    Atomics.store(this.header, 2 * image + 1, 0);
    this.release(at, blockSize(n));
  }

  /** Replaces an image's list (restoring a checkpoint). */
  set(image: number, labels: ArrayLike<number>): void {
    for (let j = 0; j < labels.length; j++) this.add(image, labels[j]);
  }

  private ensureHeader(image: number): void {
    if (2 * image + 1 < this.header.length) return;
    if (!this.growable) throw new Error(`positives: image ${image} is beyond the reserved header`);
    const grown = new Int32Array(Math.max(2 * image + 2, this.header.length * 2));
    grown.set(this.header);
    this.header = grown;
  }

  private allocate(size: number): number {
    const reuse = this.free.get(size);
    if (reuse !== undefined && reuse.length > 0) return reuse.pop() as number;
    if (this.next + size > this.arena.length) {
      if (!this.growable) return -1;
      const grown = new Int32Array(Math.max(this.next + size, this.arena.length * 2));
      grown.set(this.arena);
      this.arena = grown;
    }
    const at = this.next;
    this.next += size;
    return at;
  }

  private release(at: number, size: number): void {
    const list = this.free.get(size);
    if (list === undefined) this.free.set(size, [at]);
    else list.push(at);
  }
}

/** Slots of the block that holds a list of n positives: 4, 8, 16, ... */
export function blockSize(n: number): number {
  let size = 4;
  while (size < n) size *= 2;
  return size;
}

const EMPTY = new Int32Array(0);
