/**
 * A vocabulary that grows while training: each new name gets the next row id, ids never change,
 * and the size is bounded by a cap (a stream can bring unbounded names; memory cannot grow
 * without bound). Names past the cap are refused and counted, so operators can see it.
 */
export class Vocabulary {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private countsArr: Float64Array = new Float64Array(16);
  private refused = 0;

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

  /** The id of name, adding it if new; -1 when it is new and the cap is reached. */
  add(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
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

  allNames(): readonly string[] {
    return this.names;
  }

  static fromNames(names: Iterable<string>, cap?: number): Vocabulary {
    const v = new Vocabulary(cap);
    for (const n of names) v.add(n);
    return v;
  }
}
