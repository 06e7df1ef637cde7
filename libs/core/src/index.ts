export { Rng } from './math/rng.js';
export { Matrix, dot, norm, cosine } from './math/matrix.js';
export { AliasTable } from './math/alias.js';
export { SigmoidTable } from './math/sigmoid.js';
export { sortIdsByKeyDesc, partialSortIdsByKeyDesc } from './math/sort.js';
export { Vocabulary } from './vocabulary.js';
export { learningRate, type ScheduleConfig } from './schedule.js';
export * from './samplers/sampler.js';
export { UniformSampler } from './samplers/uniform.js';
export { PopularitySampler, type PopularityOptions } from './samplers/popularity.js';
export { WarpSampler } from './samplers/warp.js';
export { AdaptiveSampler, type AdaptiveOptions } from './samplers/adaptive.js';
export { RankTables, refreshCadence, type RankTableStorage } from './samplers/rank-tables.js';
export { ExactRankSampler } from './samplers/exact.js';
export { createSampler, defaultSamplerConfig, type SamplerConfig } from './samplers/factory.js';
export {
  ImageLabelModel,
  defaultImageLabelConfig,
  heapImageLabelStorage,
  imageLabelWidth,
  type ImageLabelConfig,
  type ImageLabelStorage,
  type Optimizer,
} from './models/image-label.js';
export { PositiveStore, blockSize } from './models/positives.js';
export * from './models/image-label-training.js';
export { SkipGramModel, SkipGramSentenceLoop, keepProbabilities, defaultSkipGramConfig, type SkipGramConfig } from './models/skip-gram.js';
export type { LabeledImage } from './data.js';
export * from './eval/split.js';
export * from './eval/full-ranking.js';
export * from './eval/annotation.js';
export * from './eval/similarity.js';
export * from './eval/neighbours.js';
export * from './models/skip-gram-training.js';
export * from './zero-shot/index.js';
