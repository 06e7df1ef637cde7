/**
 * Which rows changed since the last drain: the trainer publishes only those. One flag byte per
 * row plus a list of marked ids, so marking is O(1) and draining is O(changed rows).
 */
export class DirtyRows {
  private flags = new Uint8Array(1024);
  private ids = new Int32Array(1024);
  private count = 0;

  mark(id: number): void {
    if (id >= this.flags.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.flags.length * 2));
      grown.set(this.flags);
      this.flags = grown;
    }
    if (this.flags[id] === 1) return;
    this.flags[id] = 1;
    if (this.count === this.ids.length) {
      const grown = new Int32Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.count++] = id;
  }

  markRange(from: number, to: number): void {
    for (let id = from; id < to; id++) this.mark(id);
  }

  get size(): number {
    return this.count;
  }

  /** The marked ids (ascending) and a clean slate. */
  drain(): Int32Array {
    const out = this.ids.slice(0, this.count).sort();
    for (let i = 0; i < this.count; i++) this.flags[this.ids[i]] = 0;
    this.count = 0;
    return out;
  }
}
