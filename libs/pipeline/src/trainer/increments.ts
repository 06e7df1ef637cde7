import type { Blob } from './checkpoint.js';
import type { LearnerState } from './learner.js';

/**
 * Incremental checkpoints, the learner-independent parts: which rows changed since the last
 * checkpoint, and how rows of an increment are cut out of a model and patched back into the
 * state it follows. A learner's increment holds the rows it changed (and its small parts whole);
 * a restore folds full + increments, oldest first, into one state before importing it, so a
 * learner's importState never sees an increment.
 */

/** One flag per row, set when the row changes, taken (and cleared) by each checkpoint export. */
export class RowsSince {
  private flags = new Uint8Array(1024);
  private marked = 0;

  mark(id: number): void {
    if (id >= this.flags.length) this.grow(id + 1);
    this.marked += 1 - this.flags[id];
    this.flags[id] = 1;
  }

  markAll(ids: ArrayLike<number>): void {
    for (let j = 0; j < ids.length; j++) this.mark(ids[j]);
  }

  unmarkAll(ids: ArrayLike<number>): void {
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      if (id < this.flags.length) {
        this.marked -= this.flags[id];
        this.flags[id] = 0;
      }
    }
  }

  get any(): boolean {
    return this.marked > 0;
  }

  /** The marked rows below `size`, ascending; every flag is cleared (rows at or above size are gone). */
  take(size: number): Int32Array {
    const out = new Int32Array(Math.min(this.marked, size));
    let j = 0;
    const n = Math.min(size, this.flags.length);
    for (let id = 0; id < n && j < out.length; id++) if (this.flags[id] === 1) out[j++] = id;
    this.clear();
    return j === out.length ? out : out.slice(0, j);
  }

  clear(): void {
    if (this.marked > 0) this.flags.fill(0);
    this.marked = 0;
  }

  private grow(size: number): void {
    const grown = new Uint8Array(Math.max(size, this.flags.length * 2));
    grown.set(this.flags);
    this.flags = grown;
  }
}

type Floats = Float32Array | Float64Array;

/** A named part of a learner's state, which an increment or the state it follows must hold. */
export function blobOf<T extends Blob>(state: LearnerState, name: string): T {
  const blob = state.blobs[name];
  if (blob === undefined) throw new Error(`checkpoint: a learner's state has no ${name} (a damaged or foreign checkpoint)`);
  return blob as T;
}

/** Copies rows `rows` (each `width` values) out of `source`, packed. */
export function gatherRows<T extends Floats>(source: T, width: number, rows: Int32Array): T {
  const out = new (source.constructor as new (n: number) => T)(rows.length * width);
  for (let j = 0; j < rows.length; j++) out.set(source.subarray(rows[j] * width, rows[j] * width + width), j * width);
  return out;
}

/**
 * `base` (its rows, each `width` values) grown or cut to `size` rows, with the packed `values` of
 * an increment written at `rows`. Rows past the base that the increment does not hold are zero
 * (an increment holds every row added since the state it follows, so none is left so).
 */
export function patchRows<T extends Floats>(base: T, width: number, size: number, rows: Int32Array, values: T): T {
  if (values.length !== rows.length * width) throw new Error(`an increment holds ${values.length} values for ${rows.length} rows of ${width}`);
  const out = new (base.constructor as new (n: number) => T)(size * width);
  out.set(base.length <= out.length ? base : base.subarray(0, out.length));
  for (let j = 0; j < rows.length; j++) {
    if (rows[j] >= size) throw new Error(`an increment patches row ${rows[j]} of ${size}`);
    out.set(values.subarray(j * width, j * width + width), rows[j] * width);
  }
  return out;
}

/** Variable-length lists per row, flattened: row i's list is flat[start[i] .. start[i + 1]). */
export interface RowLists {
  flat: Int32Array;
  start: Int32Array;
}

/** The lists of `rows`, packed the same way. */
export function gatherLists(lists: (row: number) => ArrayLike<number>, rows: Int32Array): RowLists {
  const start = new Int32Array(rows.length + 1);
  for (let j = 0; j < rows.length; j++) start[j + 1] = start[j] + lists(rows[j]).length;
  const flat = new Int32Array(start[rows.length]);
  for (let j = 0; j < rows.length; j++) flat.set(lists(rows[j]), start[j]);
  return { flat, start };
}

/** `base`'s lists for `size` rows, each row in `rows` replaced by the increment's list. */
export function patchLists(base: RowLists, size: number, rows: Int32Array, inc: RowLists): RowLists {
  const replaced = new Int32Array(size).fill(-1);
  for (let j = 0; j < rows.length; j++) replaced[rows[j]] = j;
  const baseRows = base.start.length - 1;
  const lengthOf = (i: number): number => {
    const j = replaced[i];
    if (j >= 0) return inc.start[j + 1] - inc.start[j];
    return i < baseRows ? base.start[i + 1] - base.start[i] : 0;
  };
  const start = new Int32Array(size + 1);
  for (let i = 0; i < size; i++) start[i + 1] = start[i] + lengthOf(i);
  const flat = new Int32Array(start[size]);
  for (let i = 0; i < size; i++) {
    const j = replaced[i];
    if (j >= 0) flat.set(inc.flat.subarray(inc.start[j], inc.start[j + 1]), start[i]);
    else if (i < baseRows) flat.set(base.flat.subarray(base.start[i], base.start[i + 1]), start[i]);
  }
  return { flat, start };
}

/** `base`'s names for `size` rows, each row in `rows` renamed (a free row's name is ''). */
export function patchNames(base: readonly string[], size: number, rows: Int32Array, names: readonly string[]): string[] {
  if (names.length !== rows.length) throw new Error(`an increment holds ${names.length} names for ${rows.length} rows`);
  const out = base.slice(0, size);
  while (out.length < size) out.push('');
  for (let j = 0; j < rows.length; j++) out[rows[j]] = names[j];
  return out;
}

/** Names that only grow (labels, words): the base's, then the increment's from `from` on. */
export function appendNames(base: readonly string[], from: number, added: readonly string[], what: string): string[] {
  if (base.length !== from) throw new Error(`an increment adds ${what} from ${from}, but the state it follows holds ${base.length}`);
  return [...base, ...added];
}
