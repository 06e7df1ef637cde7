/**
 * A dense row-major float32 matrix whose number of rows can grow (vocabularies grow while a
 * stream is trained) up to a capacity that doubles on demand. Rows keep their ids forever.
 * The backing store may be a SharedArrayBuffer so that Hogwild workers update it in place.
 */
export class Matrix {
  readonly cols: number;
  private rowCount: number;
  private buffer: Float32Array;
  private readonly shared: boolean;
  /** backed by memory it does not own (a kernel's): it cannot be reallocated, only filled */
  private readonly fixed: boolean;

  constructor(cols: number, rows = 0, options: { capacity?: number; shared?: boolean; data?: Float32Array; fixed?: boolean } = {}) {
    if (!Number.isInteger(cols) || cols <= 0) throw new Error(`matrix: cols must be a positive integer, got ${cols}`);
    this.cols = cols;
    this.rowCount = rows;
    this.shared = options.shared ?? false;
    this.fixed = options.fixed ?? false;
    if (options.data) {
      if (options.data.length < rows * cols) throw new Error('matrix: data shorter than rows * cols');
      this.buffer = options.data;
    } else {
      const capacity = Math.max(rows, options.capacity ?? rows, 1);
      this.buffer = Matrix.allocate(capacity * cols, this.shared);
    }
  }

  private static allocate(length: number, shared: boolean): Float32Array {
    return shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
  }

  get rows(): number {
    return this.rowCount;
  }

  /** The backing array: row r starts at r * cols. Re-read it after addRows (it may be replaced). */
  get data(): Float32Array {
    return this.buffer;
  }

  get capacityRows(): number {
    return Math.floor(this.buffer.length / this.cols);
  }

  /** Appends n zero rows and returns the id of the first one. */
  addRows(n: number): number {
    const first = this.rowCount;
    const needed = (first + n) * this.cols;
    if (needed > this.buffer.length) {
      if (this.fixed) throw new Error(`matrix: ${first + n} rows exceed the ${this.capacityRows} reserved`);
      let capacity = Math.max(1, this.capacityRows);
      while (capacity * this.cols < needed) capacity *= 2;
      const grown = Matrix.allocate(capacity * this.cols, this.shared);
      grown.set(this.buffer.subarray(0, first * this.cols));
      this.buffer = grown;
    }
    this.rowCount = first + n;
    return first;
  }

  /** A view of one row (allocates a view object: not for hot loops). */
  row(r: number): Float32Array {
    return this.buffer.subarray(r * this.cols, (r + 1) * this.cols);
  }

  fillUniform(rows: { start: number; end: number }, scale: number, rand: () => number): void {
    const d = this.buffer;
    for (let i = rows.start * this.cols; i < rows.end * this.cols; i++) d[i] = (rand() * 2 - 1) * scale;
  }

  fillGaussian(rows: { start: number; end: number }, std: number, gauss: () => number): void {
    const d = this.buffer;
    for (let i = rows.start * this.cols; i < rows.end * this.cols; i++) d[i] = gauss() * std;
  }
}

/** Dot product of two rows given by array and offset. */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  // 4 accumulators: breaks the dependency chain, which V8 turns into ~2x fewer stalls
  for (; i + 3 < n; i += 4) {
    s0 += a[aOff + i] * b[bOff + i];
    s1 += a[aOff + i + 1] * b[bOff + i + 1];
    s2 += a[aOff + i + 2] * b[bOff + i + 2];
    s3 += a[aOff + i + 3] * b[bOff + i + 3];
  }
  for (; i < n; i++) s0 += a[aOff + i] * b[bOff + i];
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm of a row. */
export function norm(a: Float32Array, off: number, n: number): number {
  return Math.sqrt(dot(a, off, a, off, n));
}

/** Cosine similarity of two rows (0 when either is the zero vector). */
export function cosine(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  const na = norm(a, aOff, n);
  const nb = norm(b, bOff, n);
  if (na === 0 || nb === 0) return 0;
  return dot(a, aOff, b, bOff, n) / (na * nb);
}
