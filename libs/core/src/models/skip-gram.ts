import { dot, Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { SigmoidTable } from '../math/sigmoid.js';
import { NO_EXCLUDE, type NegativeSampler } from '../samplers/sampler.js';
import { Vocabulary } from '../vocabulary.js';

export interface SkipGramConfig {
  dim: number;
  /** maximum window; each position uses a random shrink (word2vec's dynamic window) */
  window: number;
  negatives: number;
  /** frequent-word subsampling threshold (word2vec's `sample`); 0 disables */
  sample: number;
  /** output vectors: zero as in word2vec, or small noise so the adaptive sampler has σ > 0 at once */
  outputInit: 'zero' | 'noise';
  vocabCap: number;
}

export const defaultSkipGramConfig: SkipGramConfig = {
  dim: 100,
  window: 5,
  negatives: 5,
  sample: 1e-3,
  outputInit: 'zero',
  vocabCap: 2_000_000,
};

/**
 * Skip-gram with negative sampling, word2vec's convention: for a centre word w and a context
 * word c in its window, the input vector of c predicts the output vector of w against K negatives:
 * maximise log σ(out_w · in_c) + Σ_j log σ(-out_{n_j} · in_c). Negatives come from any sampler,
 * with in_c as the sampler's context (Chen et al.'s adaptive sampler ranks output vectors by it).
 */
export class SkipGramModel {
  readonly vocab: Vocabulary;
  readonly input: Matrix;
  readonly output: Matrix;

  constructor(
    readonly config: SkipGramConfig,
    private readonly rng: Rng,
    /** where the vectors live: the JS heap (the reference), or a kernel's memory (rows may be padded wider than dim) */
    storage: { input: Matrix; output: Matrix } = {
      input: new Matrix(config.dim, 0, { capacity: 1024 }),
      output: new Matrix(config.dim, 0, { capacity: 1024 }),
    },
  ) {
    this.vocab = new Vocabulary(config.vocabCap);
    this.input = storage.input;
    this.output = storage.output;
  }

  /** The id of a word, adding and initialising it if new (-1 past the cap). */
  wordId(name: string): number {
    const before = this.vocab.size;
    const id = this.vocab.add(name);
    if (id >= 0 && id === before) {
      const k = this.config.dim;
      const w = this.input.cols;
      const row = this.input.addRows(1);
      this.output.addRows(1);
      const inp = this.input.data;
      // word2vec's init: uniform in [-0.5/dim, 0.5/dim] (padding lanes, if any, stay 0)
      for (let f = 0; f < k; f++) inp[row * w + f] = (this.rng.nextFloat() - 0.5) / k;
      if (this.config.outputInit === 'noise') {
        const out = this.output.data;
        for (let f = 0; f < k; f++) out[row * w + f] = (this.rng.nextFloat() - 0.5) / k;
      }
    }
    return id;
  }
}

/** Probability of keeping each occurrence of a word (word2vec's formula with `sample`). */
export function keepProbabilities(counts: ArrayLike<number>, sample: number, out?: Float32Array): Float32Array {
  const n = counts.length;
  const keep = out && out.length >= n ? out : new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += counts[i];
  const threshold = sample * total;
  for (let i = 0; i < n; i++) {
    const c = counts[i];
    keep[i] = sample <= 0 || c <= 0 ? 1 : Math.min(1, (Math.sqrt(c / threshold) + 1) * (threshold / c));
  }
  return keep;
}

/** The TypeScript reference SGD: a SkipGramModel trained sentence by sentence, scratch buffers allocated once. */
export class SkipGramSentenceLoop {
  private readonly sigmoid = new SigmoidTable();
  private readonly neu1e: Float32Array;
  private scratch: Int32Array = new Int32Array(1024);
  /** pairs and loss since the last reset, for progress and metrics */
  pairs = 0;
  lossSum = 0;

  constructor(
    private readonly model: SkipGramModel,
    private readonly sampler: NegativeSampler,
    private readonly rng: Rng,
  ) {
    this.neu1e = new Float32Array(model.config.dim);
  }

  /**
   * Trains on ids[start..end) (one sentence or window) at learning rate lr, after subsampling
   * with `keep` (null: keep all). Returns the number of words kept.
   */
  trainSequence(ids: Int32Array, start: number, end: number, lr: number, keep: Float32Array | null): number {
    const len = end - start;
    if (this.scratch.length < len) this.scratch = new Int32Array(len * 2);
    const sen = this.scratch;
    let n = 0;
    for (let i = start; i < end; i++) {
      const w = ids[i];
      if (w < 0) continue;
      if (keep !== null && keep[w] < 1 && keep[w] < this.rng.nextFloat()) continue;
      sen[n++] = w;
    }
    const window = this.model.config.window;
    for (let pos = 0; pos < n; pos++) {
      const shrink = this.rng.nextInt(window);
      const lo = Math.max(0, pos - window + shrink);
      const hi = Math.min(n - 1, pos + window - shrink);
      for (let c = lo; c <= hi; c++) {
        if (c !== pos) this.trainPair(sen[pos], sen[c], lr);
      }
    }
    return n;
  }

  /** One (centre, context) pair with K negatives. */
  trainPair(center: number, context: number, lr: number): void {
    const k = this.model.config.dim;
    const inp = this.model.input.data;
    const out = this.model.output.data;
    const neu1e = this.neu1e;
    const l1 = context * k;
    neu1e.fill(0);
    this.sampler.setContext(inp, l1);
    const sig = this.sigmoid;
    for (let d = 0; d <= this.model.config.negatives; d++) {
      let target: number;
      let label: number;
      if (d === 0) {
        target = center;
        label = 1;
      } else {
        target = this.sampler.draw(center, NO_EXCLUDE, 0);
        if (target < 0) continue;
        label = 0;
      }
      const l2 = target * k;
      const f = dot(inp, l1, out, l2, k);
      const p = sig.value(f);
      const g = (label - p) * lr;
      this.lossSum += sig.lossOf(label === 1 ? f : -f);
      for (let j = 0; j < k; j++) {
        neu1e[j] += g * out[l2 + j];
        out[l2 + j] += g * inp[l1 + j];
      }
    }
    for (let j = 0; j < k; j++) inp[l1 + j] += neu1e[j];
    this.pairs++;
  }
}
