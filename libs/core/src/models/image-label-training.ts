import type { Rng } from '../math/rng.js';
import type { NegativeSampler } from '../samplers/sampler.js';
import type { LabeledImage } from '../data.js';
import type { ImageLabelModel } from './image-label.js';

/** Observed (image, label) pairs as parallel id arrays: positives are drawn uniformly from them. */
export interface PairSet {
  images: Int32Array;
  labels: Int32Array;
  length: number;
}

/** Registers every image and label with the model and returns the observed pairs. */
export function observeAll(model: ImageLabelModel, images: readonly LabeledImage[]): PairSet {
  const imgs: number[] = [];
  const labs: number[] = [];
  for (const image of images) {
    const { image: i, labels } = model.observe(image.id, image.labels);
    if (i < 0) continue;
    for (const a of labels) {
      if (a < 0) continue;
      imgs.push(i);
      labs.push(a);
    }
  }
  return { images: Int32Array.from(imgs), labels: Int32Array.from(labs), length: imgs.length };
}

export interface StepResult {
  steps: number;
  /** steps that changed the model (hinge active and a negative found) */
  updates: number;
  lossSum: number;
}

/** Runs `steps` SGD steps on uniformly drawn observed pairs. */
export function trainImageLabelSteps(model: ImageLabelModel, pairs: PairSet, sampler: NegativeSampler, steps: number, lr: number, rng: Rng): StepResult {
  let updates = 0;
  let lossSum = 0;
  for (let s = 0; s < steps; s++) {
    const p = rng.nextInt(pairs.length);
    const loss = model.step(pairs.images[p], pairs.labels[p], sampler, lr);
    if (loss > 0) {
      updates++;
      lossSum += loss;
    }
  }
  return { steps, updates, lossSum };
}
