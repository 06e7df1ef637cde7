import { dot, Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import type { NegativeSampler } from '../samplers/sampler.js';
import { Vocabulary } from '../vocabulary.js';
import { PositiveStore } from './positives.js';

export type Optimizer = 'sgd' | 'adagrad';

export interface ImageLabelConfig {
  dim: number;
  /** L2 regularisation, applied to the rows a step touches */
  reg: number;
  /** initial values uniform in [-initScale, initScale] (the VSE-ens authors' code: 0.01) */
  initScale: number;
  margin: number;
  imageCap: number;
  labelCap: number;
  /** a learned bias per label: s(i, a) = u_i · v_a + b_a (LightFM's item bias) */
  labelBias: boolean;
  /** plain SGD at a constant rate, or per-coordinate AdaGrad (LightFM's default) */
  optimizer: Optimizer;
  /** AdaGrad: the accumulators' starting value (LightFM starts them at 1) */
  adagradInit: number;
}

export const defaultImageLabelConfig: ImageLabelConfig = {
  dim: 100,
  reg: 0.01,
  initScale: 0.01,
  margin: 1,
  imageCap: 10_000_000,
  labelCap: 1_000_000,
  labelBias: false,
  optimizer: 'sgd',
  adagradInit: 1,
};

/**
 * Floats per stored row: the dim components, then the bias lane when biases are on (the image
 * side holds 1 there, the label side b_a, so a dot product of whole rows is the score), padded
 * with zeros to a multiple of 4 (the kernels' SIMD width). The reference and the kernels share it.
 */
export function imageLabelWidth(config: Pick<ImageLabelConfig, 'dim' | 'labelBias'>): number {
  return Math.ceil((config.dim + (config.labelBias ? 1 : 0)) / 4) * 4;
}

/** Where the model's numbers live: the JS heap (the reference), or a kernel's memory. */
export interface ImageLabelStorage {
  imageVectors: Matrix;
  labelVectors: Matrix;
  /** AdaGrad's squared-gradient sums, same shape as the vectors (null with plain SGD) */
  imageAccumulators: Matrix | null;
  labelAccumulators: Matrix | null;
  positives: PositiveStore;
}

export function heapImageLabelStorage(config: ImageLabelConfig): ImageLabelStorage {
  const width = imageLabelWidth(config);
  const adagrad = config.optimizer === 'adagrad';
  return {
    imageVectors: new Matrix(width, 0, { capacity: 1024 }),
    labelVectors: new Matrix(width, 0, { capacity: 256 }),
    imageAccumulators: adagrad ? new Matrix(width, 0, { capacity: 1024 }) : null,
    labelAccumulators: adagrad ? new Matrix(width, 0, { capacity: 256 }) : null,
    positives: PositiveStore.onHeap(),
  };
}

/**
 * Visual-semantic embedding with images known only by id: s(i, a) = u_i · v_a (+ b_a), trained on
 * the pairwise hinge max(0, margin - s(i,a+) + s(i,a-)) with L2, by SGD or AdaGrad. Vocabularies of
 * images and labels grow as observations arrive; each image keeps its positive labels so that
 * samplers never return one of them as a negative.
 *
 * `step` here is the TypeScript reference of the update; the WebAssembly kernel
 * (@freshet/kernels, assembly/vse.ts) implements the same one on the same storage layout, and a
 * parity test holds them together.
 */
export class ImageLabelModel {
  readonly images: Vocabulary;
  readonly labels: Vocabulary;
  readonly imageVectors: Matrix;
  readonly labelVectors: Matrix;
  readonly imageAccumulators: Matrix | null;
  readonly labelAccumulators: Matrix | null;
  readonly positives: PositiveStore;
  /** floats per stored row (see imageLabelWidth) */
  readonly width: number;

  constructor(
    readonly config: ImageLabelConfig,
    private readonly rng: Rng,
    storage: ImageLabelStorage = heapImageLabelStorage(config),
  ) {
    this.width = imageLabelWidth(config);
    if (storage.imageVectors.cols !== this.width || storage.labelVectors.cols !== this.width) {
      throw new Error(`image-label model: storage rows must be ${this.width} floats wide`);
    }
    this.images = new Vocabulary(config.imageCap);
    this.labels = new Vocabulary(config.labelCap);
    this.imageVectors = storage.imageVectors;
    this.labelVectors = storage.labelVectors;
    this.imageAccumulators = storage.imageAccumulators;
    this.labelAccumulators = storage.labelAccumulators;
    this.positives = storage.positives;
  }

  get dim(): number {
    return this.config.dim;
  }

  /** The lane of a row that holds the label bias (and the image's constant 1), or -1 without biases. */
  get biasLane(): number {
    return this.config.labelBias ? this.config.dim : -1;
  }

  imageId(name: string): number {
    const before = this.images.size;
    const known = this.images.idOf(name);
    const id = this.images.add(name);
    if (id >= 0 && id === before) this.initRow(this.imageVectors, this.imageAccumulators, this.imageVectors.addRows(1), 1);
    // an evicted image's row taken by a new one: it starts fresh
    else if (id >= 0 && known < 0) this.resetRow(this.imageVectors, this.imageAccumulators, id, 1);
    return id;
  }

  /**
   * Evicts an image: its name, its positives and (once a new image takes the row) its vector go.
   * The caller also drops the image's pairs from wherever it replays them.
   */
  evictImage(id: number): void {
    this.positives.clear(id);
    this.images.release(id);
  }

  /** Image rows as a checkpoint saved them ('' for a free row): the same ids, their rows reserved (the caller fills them). */
  restoreImages(names: readonly string[]): void {
    this.images.restoreNames(names);
    this.imageVectors.addRows(names.length);
    this.imageAccumulators?.addRows(names.length);
  }

  labelId(name: string): number {
    const before = this.labels.size;
    const id = this.labels.add(name);
    if (id >= 0 && id === before) this.initRow(this.labelVectors, this.labelAccumulators, this.labelVectors.addRows(1), 0);
    return id;
  }

  private initRow(m: Matrix, acc: Matrix | null, row: number, biasValue: number): void {
    acc?.addRows(1);
    this.resetRow(m, acc, row, biasValue);
  }

  /** A row as a new one starts: small random values, the bias lane, fresh AdaGrad sums. */
  private resetRow(m: Matrix, acc: Matrix | null, row: number, biasValue: number): void {
    const s = this.config.initScale;
    const d = m.data;
    const base = row * m.cols;
    for (let f = 0; f < this.config.dim; f++) d[base + f] = (this.rng.nextFloat() * 2 - 1) * s;
    for (let f = this.config.dim; f < m.cols; f++) d[base + f] = 0;
    if (this.config.labelBias) d[base + this.config.dim] = biasValue;
    acc?.data.fill(this.config.adagradInit, base, base + m.cols);
  }

  /** Records that `label` is a positive of `image` (ids); false if it was known. */
  addPositive(image: number, label: number): boolean {
    if (!this.positives.add(image, label)) return false;
    this.labels.increment(label);
    return true;
  }

  /** Adds an observation by names, growing the vocabularies; ids of image and labels (-1 past a cap). */
  observe(imageName: string, labelNames: readonly string[]): { image: number; labels: number[] } {
    const image = this.imageId(imageName);
    const labels: number[] = [];
    for (const name of labelNames) {
      const label = this.labelId(name);
      labels.push(label);
      if (image >= 0 && label >= 0) this.addPositive(image, label);
    }
    return { image, labels };
  }

  positivesOf(image: number): Int32Array {
    return this.positives.list(image);
  }

  /** s(i, a), bias included. */
  score(image: number, label: number): number {
    const w = this.width;
    return dot(this.imageVectors.data, image * w, this.labelVectors.data, label * w, w);
  }

  /** The bias of a label (0 without biases). */
  bias(label: number): number {
    return this.config.labelBias ? this.labelVectors.data[label * this.width + this.config.dim] : 0;
  }

  /**
   * One step on (image, positive label) with a negative from the sampler; `weight` scales the
   * gradient (an event's weight). Returns the hinge loss before the step (0: no update).
   */
  step(image: number, positive: number, sampler: NegativeSampler, lr: number, weight = 1): number {
    const w = this.width;
    const u = this.imageVectors.data;
    const v = this.labelVectors.data;
    const uo = image * w;
    const positives = this.positives.list(image);
    sampler.setContext(u, uo);
    const negative = sampler.draw(positive, positives, positives.length);
    if (negative < 0) return 0;
    const po = positive * w;
    const no = negative * w;
    const loss = this.config.margin - dot(u, uo, v, po, w) + dot(u, uo, v, no, w);
    if (!(loss > 0)) return 0;
    const g = weight * sampler.lastWeight;
    const reg = this.config.reg;
    const gu = this.imageAccumulators?.data;
    const gv = this.labelAccumulators?.data;
    if (gu !== undefined && gv !== undefined) {
      // per-coordinate AdaGrad: d = g · (descent direction) - reg · x; G += d²; x += lr d / sqrt(G)
      for (let f = 0; f < w; f++) {
        const uf = u[uo + f];
        const vp = v[po + f];
        const vn = v[no + f];
        const du = Math.fround(g * (vp - vn) - reg * uf);
        const dp = Math.fround(g * uf - reg * vp);
        const dn = Math.fround(-(g * uf + reg * vn));
        gu[uo + f] += du * du;
        gv[po + f] += dp * dp;
        gv[no + f] += dn * dn;
        u[uo + f] = uf + (lr * du) / Math.sqrt(gu[uo + f]);
        v[po + f] = vp + (lr * dp) / Math.sqrt(gv[po + f]);
        v[no + f] = vn + (lr * dn) / Math.sqrt(gv[no + f]);
      }
    } else {
      const gl = lr * weight * sampler.lastWeight;
      const decay = 1 - lr * weight * reg;
      for (let f = 0; f < w; f++) {
        const uf = u[uo + f];
        const vp = v[po + f];
        const vn = v[no + f];
        u[uo + f] = decay * uf + gl * (vp - vn);
        v[po + f] = decay * vp + gl * uf;
        v[no + f] = decay * vn - gl * uf;
      }
    }
    // the image side of the bias lane is the constant 1 the bias multiplies
    if (this.config.labelBias) u[uo + this.config.dim] = 1;
    return loss;
  }
}
