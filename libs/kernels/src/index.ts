export { SgnsKernel, type SgnsKernelSpec, type SgnsKernelShare } from './sgns-kernel.js';
export { trainSkipGramWasm, type WasmTrainOptions, type WasmTrainResult } from './train.js';
export { AUTO_SAMPLER_LABELS, VseKernel, type VseSpec, type VseSamplerSpec, type VseShare, type VseCounters } from './vse-kernel.js';
export { kernelModule, type KernelName } from './modules.js';
export { MemoryLayout } from './memory.js';
export { ImageLabelTrainer, addCounters, type Engine, type ImageLabelTrainerOptions } from './image-label-trainer.js';
export { TrainingThreads, type KernelShares, type SgnsCounters, type TrainingCommand } from './training-threads.js';
export type { CorpusSlot } from './sgns-kernel.js';
