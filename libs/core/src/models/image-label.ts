import { dot, Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import type { NegativeSampler } from '../samplers/sampler.js';
import { Vocabulary } from '../vocabulary.js';
import { DirtyRows } from '../dirty.js';

export interface ImageLabelConfig {
  dim: number;
  /** L2 regularisation, applied to the rows a step touches */
  reg: number;
  /** initial values uniform in [-initScale, initScale] (the VSE-ens authors' code: 0.01) */
  initScale: number;
  margin: number;
  imageCap: number;
  labelCap: number;
}

export const defaultImageLabelConfig: ImageLabelConfig = {
  dim: 100,
  reg: 0.01,
  initScale: 0.01,
  margin: 1,
  imageCap: 10_000_000,
  labelCap: 1_000_000,
};

/**
 * Visual-semantic embedding with images known only by id: s(i, a) = u_i · v_a, trained by SGD
 * on the pairwise hinge max(0, margin - s(i,a+) + s(i,a-)) with L2. Vocabularies of images and
 * labels grow as observations arrive; each image keeps the list of its positive labels so that
 * samplers never return one of them as a negative.
 */
export class ImageLabelModel {
  readonly images: Vocabulary;
  readonly labels: Vocabulary;
  readonly imageVectors: Matrix;
  readonly labelVectors: Matrix;
  /** rows changed since the last drain, when tracking is on (streaming); null offline */
  dirtyImages: DirtyRows | null = null;
  dirtyLabels: DirtyRows | null = null;
  /** positives[i] = label ids observed with image i (short arrays) */
  private positiveLists: Int32Array[] = [];

  constructor(
    readonly config: ImageLabelConfig,
    private readonly rng: Rng,
    /** shared: vectors in SharedArrayBuffers (Hogwild); or existing matrices to attach to (a worker) */
    storage: boolean | { imageVectors: Matrix; labelVectors: Matrix } = false,
  ) {
    this.images = new Vocabulary(config.imageCap);
    this.labels = new Vocabulary(config.labelCap);
    if (typeof storage === 'object') {
      this.imageVectors = storage.imageVectors;
      this.labelVectors = storage.labelVectors;
    } else {
      this.imageVectors = new Matrix(config.dim, 0, { capacity: 1024, shared: storage });
      this.labelVectors = new Matrix(config.dim, 0, { capacity: 256, shared: storage });
    }
  }

  /** Starts recording which rows SGD changes (the trainer publishes them). */
  trackChanges(): void {
    this.dirtyImages = new DirtyRows();
    this.dirtyLabels = new DirtyRows();
  }

  /** Replaces the positive list of an image (workers receive the lists from the main thread). */
  setPositives(image: number, labels: Int32Array): void {
    this.positiveLists[image] = labels;
  }

  get dim(): number {
    return this.config.dim;
  }

  imageId(name: string): number {
    const before = this.images.size;
    const id = this.images.add(name);
    if (id >= 0 && id === before) this.initRow(this.imageVectors, this.imageVectors.addRows(1));
    return id;
  }

  labelId(name: string): number {
    const before = this.labels.size;
    const id = this.labels.add(name);
    if (id >= 0 && id === before) this.initRow(this.labelVectors, this.labelVectors.addRows(1));
    return id;
  }

  private initRow(m: Matrix, row: number): void {
    const s = this.config.initScale;
    const d = m.data;
    for (let f = row * m.cols; f < (row + 1) * m.cols; f++) d[f] = (this.rng.nextFloat() * 2 - 1) * s;
    if (m === this.imageVectors) this.positiveLists[row] = EMPTY;
  }

  /** Records that `label` is a positive of `image` (ids); returns false if it was known. */
  addPositive(image: number, label: number): boolean {
    const list = this.positiveLists[image] ?? EMPTY;
    for (let j = 0; j < list.length; j++) if (list[j] === label) return false;
    const grown = new Int32Array(list.length + 1);
    grown.set(list);
    grown[list.length] = label;
    this.positiveLists[image] = grown;
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
    return this.positiveLists[image] ?? EMPTY;
  }

  score(image: number, label: number): number {
    const k = this.config.dim;
    return dot(this.imageVectors.data, image * k, this.labelVectors.data, label * k, k);
  }

  /**
   * One SGD step on (image, positive label) with a negative from the sampler. Returns the hinge
   * loss before the step (0 when no update was made).
   */
  step(image: number, positive: number, sampler: NegativeSampler, lr: number): number {
    const k = this.config.dim;
    const u = this.imageVectors.data;
    const v = this.labelVectors.data;
    const uo = image * k;
    const positives = this.positiveLists[image] ?? EMPTY;
    sampler.setContext(u, uo);
    const negative = sampler.draw(positive, positives, positives.length);
    if (negative < 0) return 0;
    const po = positive * k;
    const no = negative * k;
    const loss = this.config.margin - dot(u, uo, v, po, k) + dot(u, uo, v, no, k);
    if (loss <= 0) return 0;
    const g = lr * sampler.lastWeight;
    const decay = 1 - lr * this.config.reg;
    for (let f = 0; f < k; f++) {
      const uf = u[uo + f];
      const vp = v[po + f];
      const vn = v[no + f];
      u[uo + f] = decay * uf + g * (vp - vn);
      v[po + f] = decay * vp + g * uf;
      v[no + f] = decay * vn - g * uf;
    }
    if (this.dirtyImages !== null && this.dirtyLabels !== null) {
      this.dirtyImages.mark(image);
      this.dirtyLabels.mark(positive);
      this.dirtyLabels.mark(negative);
    }
    return loss;
  }

  /** Label ids by descending score for an image, skipping `skip` (its known labels, usually). */
  topLabels(image: number, count: number, skip: Int32Array = EMPTY): Array<{ label: number; score: number }> {
    const out: Array<{ label: number; score: number }> = [];
    const n = this.labels.size;
    for (let a = 0; a < n; a++) {
      let skipped = false;
      for (let j = 0; j < skip.length; j++) if (skip[j] === a) skipped = true;
      if (!skipped) out.push({ label: a, score: this.score(image, a) });
    }
    out.sort((x, y) => y.score - x.score);
    return out.slice(0, count);
  }
}

const EMPTY = new Int32Array(0);
