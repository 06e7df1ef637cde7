/**
 * The boundary between TypeScript and the WebAssembly kernels, declared once: every field of the
 * configuration, control and counter blocks, and the sampler lists. assembly/abi.ts is generated
 * from this file at build time (scripts/build-wasm.mjs); `abi.test.ts` checks that it is current,
 * and writes every field from TypeScript and reads it back from inside each kernel.
 *
 * - A configuration block is written once per kernel instance (thread) and read by `configure`.
 * - A control block is shared by every thread of a model: the main thread grows the vocabulary
 *   and swaps tables through it, and the kernels read it at the start of every call.
 * - A counter block is where a kernel instance writes its running totals when asked.
 */
import { block, enumeration, generateAssemblyAbi, type Block, type Enumeration } from './blocks.js';

/** The image-label kernel's negative samplers: the position in this list is the kernel's mode number. */
export const VSE_SAMPLERS = enumeration('VseSampler', "the image-label kernel's negative samplers", {
  uniform: 'uniform non-positive labels; with candidates > 1, the highest-scoring of that many (dynamic negative sampling)',
  warp: 'WARP: uniform draws until one violates the margin (at most max-sampled), the step weighted by the rank it implies',
  adaptive: "the papers' factor-wise rank tables (VSE-ens, Chen et al.), refreshed every ceil(|A| ln |A|) draws",
  popularity: 'labels in proportion to their observed pairs (the label of a random observed pair); with candidates > 1, the highest-scoring of that many',
  inbatch:
    'in-batch negatives: popularity draws whose score is lowered by log(|A| q) in the hinge (the log-frequency correction of sampled softmax), so popular labels are not over-penalised',
  adversarial: 'self-adversarial: candidates uniform labels, each violator updated with its softmax weight exp(t s) / sum (Sun et al., RotatE)',
  auto: 'by the label count (what won the convergence benchmarks): uniform below auto-dns-labels, the hardest of auto-candidates uniform draws from there, WARP from auto-labels',
});

/** The skip-gram kernel's negative samplers. */
export const SGNS_SAMPLERS = enumeration('SgnsSampler', "the skip-gram kernel's negative samplers", {
  popularity: "word2vec's unigram^alpha negatives, from an alias table",
  adaptive: "Chen et al.'s rank-table negatives for the context's input vector, with a popularity share mixed in",
});

/** Fields both kernels' control blocks start with: the rank tables, read by tables.ts for either kernel. */
const rankTableControl = {
  tables: ['u32', 'byte offset of the rank tables in use (item ids per dimension, by value descending)'],
  sigma: ['u32', 'byte offset of the per-dimension spread (sigma) in use'],
  tableSize: ['i32', 'items the tables in use rank'],
  tableStride: ['i32', 'items reserved per dimension list (the cap)'],
  lambda: ['f32', 'lambda of the tables in use, in rank units'],
  refreshRequest: ['i32', "the refresher's request slot (tables.ts: idle, refresh, asking, stop)"],
  requestSize: ['i32', 'items to rank in the requested refresh'],
  requestLambda: ['f32', 'lambda of the requested refresh'],
  refreshes: ['i32', 'refreshes made so far'],
  refreshSeconds: ['f64', 'seconds spent refreshing so far'],
} as const;

/** The rank-table part of either control block: what tables.ts reads and writes. */
export const RANK_TABLE_CONTROL = block('RankTableControl', 'the rank-table fields every control block starts with', rankTableControl);
export type RankTableField = keyof typeof rankTableControl;

export const VSE_CONTROL = block('VseControl', 'image-label model state every thread reads at each call', {
  ...rankTableControl,
  labels: ['i32', 'labels with a row'],
  images: ['i32', 'images with a row'],
  pairs: ['i32', 'observed (image, label) pairs in the pair set'],
});

export const SGNS_CONTROL = block('SgnsControl', 'skip-gram model state every thread reads at each call', {
  ...rankTableControl,
  vocab: ['i32', 'words with a row'],
  aliasSize: ['i32', 'words in the popularity alias table in use'],
  alias: ['u32', 'byte offset of the alias table in use (prob f32[cap], then alias i32[cap])'],
  keep: ['u32', 'byte offset of the subsampling keep table in use'],
  keepSize: ['i32', 'words in the keep table in use'],
  cap: ['i32', 'words reserved'],
});

export const VSE_CONFIG = block('VseConfig', "an image-label kernel instance's layout and settings", {
  dim: ['i32', 'semantic dimensions'],
  cols: ['i32', 'dim + 1 with the bias lane'],
  rowBytes: ['i32', 'bytes per row (cols rounded up to 4 floats)'],
  imageRows: ['u32', 'byte offset of the image vectors'],
  labelRows: ['u32', 'byte offset of the label vectors'],
  imageSums: ['u32', 'byte offset of the image AdaGrad sums (0: plain SGD)'],
  labelSums: ['u32', 'byte offset of the label AdaGrad sums'],
  positiveHeaders: ['u32', 'byte offset of the per-image positive headers (arena offset, count)'],
  positiveArena: ['u32', 'byte offset of the positive label ids'],
  pairs: ['u32', 'byte offset of the observed pairs (i32 image, i32 label)'],
  warpWeights: ['u32', "byte offset of WARP's rank weights L(K)"],
  control: ['u32', 'byte offset of the control block'],
  changedImages: ['u32', 'byte offset of the changed-image flags (0: not tracked)'],
  changedLabels: ['u32', 'byte offset of the changed-label flags'],
  labelBias: ['i32', '1: a bias lane per label'],
  margin: ['f32', 'hinge margin'],
  reg: ['f32', 'L2 on the touched rows'],
  sampler: ['i32', 'VseSampler code'],
  candidates: ['i32', 'candidates scored per draw, the hardest kept (1: none)'],
  maxSampled: ['i32', "WARP's cap on draws per step"],
  mixShare: ['f32', 'rank tables: share of uniform draws mixed in'],
  maxRetries: ['i32', 'rank tables: redraws after positives before the uniform fallback'],
  autoLabels: ['i32', 'auto: the label count from which WARP is drawn'],
  autoDnsLabels: ['i32', 'auto: the label count from which the hardest of autoCandidates uniform draws is kept (below autoLabels)'],
  autoCandidates: ['i32', 'auto: the uniform candidates scored per draw from autoDnsLabels'],
  labelCounts: ['u32', 'byte offset of the observed pairs per label (i32; in-batch correction)'],
  temperature: ['f32', 'self-adversarial: inverse temperature t of the candidate weights'],
  scratch: ['u32', "byte offset of this thread's candidate scratch (i32 id, f32 score per candidate)"],
});

export const VSE_COUNTERS = block('VseCounters', "an image-label kernel instance's running totals", {
  steps: ['f64', 'SGD steps attempted'],
  updates: ['f64', 'steps with an active hinge (rows moved)'],
  lossSum: ['f64', 'hinge loss summed over the updates'],
  draws: ['f64', 'negative draws'],
  rejections: ['f64', 'candidates rejected as positives'],
  fallbacks: ['f64', 'rank-table draws that fell back to uniform'],
  mixed: ['f64', 'draws from the uniform mix or the rows added since the last refresh'],
  candidatesScored: ['f64', 'candidates scored'],
  noViolator: ['f64', 'WARP steps without a margin violator'],
});

export const SGNS_CONFIG = block('SgnsConfig', "a skip-gram kernel instance's layout and settings", {
  stride: ['i32', 'floats per row (dim rounded up to 4; padding stays 0)'],
  dim: ['i32', 'real dimensions (the rank tables exist for these)'],
  input: ['u32', 'byte offset of the input vectors'],
  output: ['u32', 'byte offset of the output vectors'],
  sigmoid: ['u32', 'byte offset of the sigmoid table'],
  control: ['u32', 'byte offset of the control block'],
  window: ['i32', 'largest window'],
  negatives: ['i32', 'negatives per pair'],
  subsample: ['i32', '1: frequent-word subsampling by the keep table'],
  sampler: ['i32', 'SgnsSampler code'],
  mixShare: ['f32', 'adaptive: share of popularity draws mixed in'],
  maxRetries: ['i32', 'adaptive: redraws of the centre word before the popularity fallback'],
  changed: ['u32', 'byte offset of the changed-word flags (0: not tracked)'],
  headOnly: ['i32', '1: the tables rank only the most frequent words on purpose (the rest come from the popularity mix)'],
  neu1e: ['u32', "byte offset of this thread's gradient accumulator f32[stride]"],
  sentence: ['u32', "byte offset of this thread's sentence buffer"],
  targets: ['u32', "byte offset of this thread's targets i32[negatives + 1]"],
  changedOutput: ['u32', 'byte offset of the changed-output-row flags (0: not tracked)'],
});

export const SGNS_COUNTERS = block('SgnsCounters', "a skip-gram kernel instance's running totals", {
  pairs: ['f64', '(centre, context) pairs trained'],
  draws: ['f64', 'negative draws'],
  fallbacks: ['f64', 'adaptive draws that fell back to popularity'],
  mixed: ['f64', 'draws from the popularity mix or the words added since the last refresh'],
  lossSum: ['f64', 'log loss summed over the measured pairs (one in 16)'],
  lossPairs: ['f64', 'pairs whose loss was measured'],
});

export const ABI_BLOCKS: ReadonlyArray<Block<string>> = [RANK_TABLE_CONTROL, VSE_CONTROL, VSE_CONFIG, VSE_COUNTERS, SGNS_CONTROL, SGNS_CONFIG, SGNS_COUNTERS];
export const ABI_ENUMS: ReadonlyArray<Enumeration<string>> = [VSE_SAMPLERS, SGNS_SAMPLERS];

/** The text of assembly/abi.ts. */
export function assemblyAbi(): string {
  return generateAssemblyAbi('libs/kernels/src/abi.ts', ABI_BLOCKS, ABI_ENUMS);
}

export type VseSamplerName = (typeof VSE_SAMPLERS)['names'][number];
export type SgnsSamplerName = (typeof SGNS_SAMPLERS)['names'][number];
