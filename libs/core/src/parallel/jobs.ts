import type { ImageLabelConfig } from '../models/image-label.js';
import type { SkipGramConfig } from '../models/skip-gram.js';
import type { SamplerConfig } from '../samplers/factory.js';
import type { SamplerStats } from '../samplers/sampler.js';

/**
 * What a Hogwild worker needs, all of it structured-cloneable: model vectors and progress
 * counters live in SharedArrayBuffers, so every worker updates the same model in place without
 * locks (Recht et al. 2011: sparse updates rarely collide).
 */
export interface ImageLabelJob {
  kind: 'image-label';
  config: ImageLabelConfig;
  imageData: Float32Array;
  labelData: Float32Array;
  imageRows: number;
  labelRows: number;
  /** positives of image i: positivesFlat[positivesStart[i] .. positivesStart[i+1]) */
  positivesFlat: Int32Array;
  positivesStart: Int32Array;
  pairImages: Int32Array;
  pairLabels: Int32Array;
  labelCounts: Float64Array;
  sampler: SamplerConfig;
  lr: number;
  seed: number;
}

export interface SkipGramJob {
  kind: 'skip-gram';
  config: SkipGramConfig;
  inputData: Float32Array;
  outputData: Float32Array;
  rows: number;
  counts: Float64Array;
  ids: Int32Array;
  starts: Int32Array;
  firstSentence: number;
  endSentence: number;
  epochs: number;
  lr: number;
  minLr: number;
  sampler: SamplerConfig;
  seed: number;
  /** words done by all workers together (Int32Array over a SharedArrayBuffer, index 0) */
  wordsDone: Int32Array;
  totalWords: number;
}

export type WorkerJob = ImageLabelJob | SkipGramJob;

/** Messages main -> worker (image-label workers train in slices so the main thread can evaluate between them). */
export type WorkerCommand = { type: 'train'; steps: number } | { type: 'stop' };

export type WorkerReply =
  | { type: 'trained'; steps: number; updates: number; lossSum: number; stats: SamplerStats }
  | { type: 'finished'; pairs: number; loss: number; seconds: number; stats: SamplerStats }
  | { type: 'error'; message: string };
