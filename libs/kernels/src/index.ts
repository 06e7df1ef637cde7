export * from './abi.js';
export { BlockView, block, enumeration, type Block, type Enumeration, type FieldType } from './blocks.js';
export { RefreshCadence } from './cadence.js';
export { MemoryLayout } from './memory.js';
export { kernelModule, type KernelModule } from './modules.js';
export { SgnsKernel } from './sgns/kernel.js';
export { trainSkipGramWasm, type WasmTrainOptions, type WasmTrainResult } from './sgns/offline.js';
export type { CorpusSlot, SgnsCounters, SgnsShare, SgnsSpec } from './sgns/spec.js';
export { VseKernel } from './vse/kernel.js';
export { SCORE_BLOCK } from './vse/layout.js';
export { ImageLabelFitter, type Engine, type ImageLabelFitterOptions } from './vse/offline.js';
export {
  AUTO_CANDIDATES,
  AUTO_DNS_LABELS,
  AUTO_SAMPLER_LABELS,
  resolveAutoCandidates,
  resolveAutoSampler,
  type VseCounters,
  type VseSamplerSpec,
  type VseShare,
  type VseSpec,
} from './vse/spec.js';
export { KERNEL_NAMES, type KernelCounters, type KernelJobs, type KernelName, type KernelShares, type SgnsJob, type VseJob } from './threads/drivers.js';
export { WorkerPool, sumRecords, type PoolJob } from './threads/pool.js';
export { imageLabelConfig, imageLabelSettings, streamingImageLabelSettings, vseSamplerSpec, type ImageLabelSettings } from './vse/settings.js';
export { skipGramSettings, streamingSkipGramSettings, type SkipGramSettings } from './sgns/settings.js';
