/**
 * A vocabulary that grows while training: each new name gets the next row id, and the size is
 * bounded by a cap (a stream can bring unbounded names; memory cannot grow without bound). Names
 * past the cap are refused and counted, so operators can see it, unless the owner makes room by
 * releasing names (eviction): a released id is free (its name '') and the next new name takes it.
 * `size` is the rows in use, free ones included; `live` the names held.
 */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private countsArr: Float64Array = new Float64Array(16);
  private refused = 0;
  private readonly free: number[] = [];

  constructor(readonly cap: number = Number.MAX_SAFE_INTEGER) {
    if (!(cap >= 1)) throw new Error(`vocabulary: cap must be >= 1, got ${cap}`);
  }

  get size(): number {
    return this.names.length;
  }

  /** Names refused because the cap was reached. */
  get refusedCount(): number {
    return this.refused;
  }

  /** Occurrence counts by id (a view; re-read after growth). */
  get counts(): Float64Array {
    return this.countsArr.subarray(0, this.names.length);
  }

  idOf(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  nameOf(id: number): string {
    const name = this.names[id];
    if (name === undefined) throw new Error(`vocabulary: no id ${id} (size ${this.names.length})`);
    return name;
  }

  /** Names held (the rows in use less the free ones). */
  get live(): number {
    return this.names.length - this.free.length;
  }

  /** Whether adding a new name now would be refused (every row in use, none free). */
  get full(): boolean {
    return this.free.length === 0 && this.names.length >= this.cap;
  }

  /** The id of name, adding it if new (into a free row first); -1 when it is new and the cap is reached. */
  add(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.names[reused] = name;
      this.ids.set(name, reused);
      this.countsArr[reused] = 0;
      return reused;
    }
    if (this.names.length >= this.cap) {
      this.refused++;
      return -1;
    }
    const id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    if (id >= this.countsArr.length) {
      const grown = new Float64Array(this.countsArr.length * 2);
      grown.set(this.countsArr);
      this.countsArr = grown;
    }
    return id;
  }

  /** Adds name if needed and counts one (or weight) occurrence; returns its id or -1. */
  observe(name: string, weight = 1): number {
    const id = this.add(name);
    if (id >= 0) this.countsArr[id] += weight;
    return id;
  }

  /** Counts weight more occurrences of a known id. */
  increment(id: number, weight = 1): void {
    this.countsArr[id] += weight;
  }

  count(id: number): number {
    return this.countsArr[id] ?? 0;
  }

  /** Forgets a name (eviction): its id becomes free ('' until the next new name takes it). */
  release(id: number): void {
    const name = this.names[id];
    if (name === undefined || name === '') return;
    this.ids.delete(name);
    this.names[id] = '';
    this.countsArr[id] = 0;
    this.free.push(id);
  }

  /** Every row's name, '' for a free one. */
  allNames(): readonly string[] {
    return this.names;
  }

  /** Rows as a checkpoint saved them ('' for a free one), in order, into an empty vocabulary: the same ids come back. */
  restoreNames(names: readonly string[]): void {
    if (this.names.length > 0) throw new Error('vocabulary: restore into an empty vocabulary only');
    for (const name of names) {
      const id = this.names.length;
      this.names.push(name);
      if (id >= this.countsArr.length) {
        const grown = new Float64Array(Math.max(16, this.countsArr.length * 2));
        grown.set(this.countsArr);
        this.countsArr = grown;
      }
      if (name === '') this.free.push(id);
      else this.ids.set(name, id);
    }
    // the lowest free row first, as if released in order
    this.free.reverse();
  }

  static fromNames(names: Iterable<string>, cap?: number): Vocabulary {
    const v = new Vocabulary(cap);
    for (const n of names) v.add(n);
    return v;
  }
}
