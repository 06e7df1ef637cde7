/**
 * Sigmoid from a table over [-maxExp, maxExp] (word2vec: 1000 entries, maxExp 6). Outside the
 * range the gradient is clipped the way word2vec does it: σ taken as exactly 0 or 1.
 */
export class SigmoidTable {
  readonly maxExp: number;
  private readonly table: Float32Array;
  private readonly loss: Float32Array;
  private readonly scale: number;

  constructor(size = 1000, maxExp = 6) {
    this.maxExp = maxExp;
    this.table = new Float32Array(size + 1);
    this.loss = new Float32Array(size + 1);
    this.scale = size / (2 * maxExp);
    for (let i = 0; i <= size; i++) {
      const x = (i / size) * 2 * maxExp - maxExp;
      this.table[i] = 1 / (1 + Math.exp(-x));
      this.loss[i] = Math.log1p(Math.exp(-x));
    }
  }

  /** The table itself (size + 1 entries over [-maxExp, maxExp]): the kernels copy it, so both use one. */
  get values(): Float32Array {
    return this.table;
  }

  value(x: number): number {
    if (x >= this.maxExp) return 1;
    if (x <= -this.maxExp) return 0;
    return this.table[Math.floor((x + this.maxExp) * this.scale)];
  }

  /**
   * -log sigmoid(x), the logistic loss of a positive scored x (of a negative: lossOf(-x)), from a
   * table: a Math.log per update cost about a tenth of the skip-gram step, for a figure that only
   * feeds a metric. Outside the table's range it is 0 above and -x below, as the loss tends to.
   */
  lossOf(x: number): number {
    if (x >= this.maxExp) return 0;
    if (x <= -this.maxExp) return -x;
    return this.loss[Math.floor((x + this.maxExp) * this.scale)];
  }
}
