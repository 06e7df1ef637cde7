// Generated from libs/kernels/src/abi.ts by scripts/build-wasm.mjs: do not edit (a test checks that it is current).

/** the rank-table fields every control block starts with */
export namespace RankTableControl {
  /** u32: byte offset of the rank tables in use (item ids per dimension, by value descending) */
  export const tables: usize = 0;
  /** u32: byte offset of the per-dimension spread (sigma) in use */
  export const sigma: usize = 4;
  /** i32: items the tables in use rank */
  export const tableSize: usize = 8;
  /** i32: items reserved per dimension list (the cap) */
  export const tableStride: usize = 12;
  /** f32: lambda of the tables in use, in rank units */
  export const lambda: usize = 16;
  /** i32: the refresher's request slot (tables.ts: idle, refresh, asking, stop) */
  export const refreshRequest: usize = 20;
  /** i32: items to rank in the requested refresh */
  export const requestSize: usize = 24;
  /** f32: lambda of the requested refresh */
  export const requestLambda: usize = 28;
  /** i32: refreshes made so far */
  export const refreshes: usize = 32;
  /** f64: seconds spent refreshing so far */
  export const refreshSeconds: usize = 40;
  export const BYTES: usize = 48;
}

/** image-label model state every thread reads at each call */
export namespace VseControl {
  /** u32: byte offset of the rank tables in use (item ids per dimension, by value descending) */
  export const tables: usize = 0;
  /** u32: byte offset of the per-dimension spread (sigma) in use */
  export const sigma: usize = 4;
  /** i32: items the tables in use rank */
  export const tableSize: usize = 8;
  /** i32: items reserved per dimension list (the cap) */
  export const tableStride: usize = 12;
  /** f32: lambda of the tables in use, in rank units */
  export const lambda: usize = 16;
  /** i32: the refresher's request slot (tables.ts: idle, refresh, asking, stop) */
  export const refreshRequest: usize = 20;
  /** i32: items to rank in the requested refresh */
  export const requestSize: usize = 24;
  /** f32: lambda of the requested refresh */
  export const requestLambda: usize = 28;
  /** i32: refreshes made so far */
  export const refreshes: usize = 32;
  /** f64: seconds spent refreshing so far */
  export const refreshSeconds: usize = 40;
  /** i32: labels with a row */
  export const labels: usize = 48;
  /** i32: images with a row */
  export const images: usize = 52;
  /** i32: observed (image, label) pairs in the pair set */
  export const pairs: usize = 56;
  export const BYTES: usize = 64;
}

/** an image-label kernel instance's layout and settings */
export namespace VseConfig {
  /** i32: semantic dimensions */
  export const dim: usize = 0;
  /** i32: dim + 1 with the bias lane */
  export const cols: usize = 4;
  /** i32: bytes per row (cols rounded up to 4 floats) */
  export const rowBytes: usize = 8;
  /** u32: byte offset of the image vectors */
  export const imageRows: usize = 12;
  /** u32: byte offset of the label vectors */
  export const labelRows: usize = 16;
  /** u32: byte offset of the image AdaGrad sums (0: plain SGD) */
  export const imageSums: usize = 20;
  /** u32: byte offset of the label AdaGrad sums */
  export const labelSums: usize = 24;
  /** u32: byte offset of the per-image positive headers (arena offset, count) */
  export const positiveHeaders: usize = 28;
  /** u32: byte offset of the positive label ids */
  export const positiveArena: usize = 32;
  /** u32: byte offset of the observed pairs (i32 image, i32 label) */
  export const pairs: usize = 36;
  /** u32: byte offset of WARP's rank weights L(K) */
  export const warpWeights: usize = 40;
  /** u32: byte offset of the control block */
  export const control: usize = 44;
  /** u32: byte offset of the changed-image flags (0: not tracked) */
  export const changedImages: usize = 48;
  /** u32: byte offset of the changed-label flags */
  export const changedLabels: usize = 52;
  /** i32: 1: a bias lane per label */
  export const labelBias: usize = 56;
  /** f32: hinge margin */
  export const margin: usize = 60;
  /** f32: L2 on the touched rows */
  export const reg: usize = 64;
  /** i32: VseSampler code */
  export const sampler: usize = 68;
  /** i32: candidates scored per draw, the hardest kept (1: none) */
  export const candidates: usize = 72;
  /** i32: WARP's cap on draws per step */
  export const maxSampled: usize = 76;
  /** f32: rank tables: share of uniform draws mixed in */
  export const mixShare: usize = 80;
  /** i32: rank tables: redraws after positives before the uniform fallback */
  export const maxRetries: usize = 84;
  /** i32: auto: the label count from which WARP is drawn */
  export const autoLabels: usize = 88;
  /** i32: auto: the label count from which the hardest of autoCandidates uniform draws is kept (below autoLabels) */
  export const autoDnsLabels: usize = 92;
  /** i32: auto: the uniform candidates scored per draw from autoDnsLabels */
  export const autoCandidates: usize = 96;
  /** u32: byte offset of the observed pairs per label (i32; in-batch correction) */
  export const labelCounts: usize = 100;
  /** f32: self-adversarial: inverse temperature t of the candidate weights */
  export const temperature: usize = 104;
  /** u32: byte offset of this thread's candidate scratch (i32 id, f32 score per candidate) */
  export const scratch: usize = 108;
  export const BYTES: usize = 112;
}

/** an image-label kernel instance's running totals */
export namespace VseCounters {
  /** f64: SGD steps attempted */
  export const steps: usize = 0;
  /** f64: steps with an active hinge (rows moved) */
  export const updates: usize = 8;
  /** f64: hinge loss summed over the updates */
  export const lossSum: usize = 16;
  /** f64: negative draws */
  export const draws: usize = 24;
  /** f64: candidates rejected as positives */
  export const rejections: usize = 32;
  /** f64: rank-table draws that fell back to uniform */
  export const fallbacks: usize = 40;
  /** f64: draws from the uniform mix or the rows added since the last refresh */
  export const mixed: usize = 48;
  /** f64: candidates scored */
  export const candidatesScored: usize = 56;
  /** f64: WARP steps without a margin violator */
  export const noViolator: usize = 64;
  export const BYTES: usize = 72;
}

/** skip-gram model state every thread reads at each call */
export namespace SgnsControl {
  /** u32: byte offset of the rank tables in use (item ids per dimension, by value descending) */
  export const tables: usize = 0;
  /** u32: byte offset of the per-dimension spread (sigma) in use */
  export const sigma: usize = 4;
  /** i32: items the tables in use rank */
  export const tableSize: usize = 8;
  /** i32: items reserved per dimension list (the cap) */
  export const tableStride: usize = 12;
  /** f32: lambda of the tables in use, in rank units */
  export const lambda: usize = 16;
  /** i32: the refresher's request slot (tables.ts: idle, refresh, asking, stop) */
  export const refreshRequest: usize = 20;
  /** i32: items to rank in the requested refresh */
  export const requestSize: usize = 24;
  /** f32: lambda of the requested refresh */
  export const requestLambda: usize = 28;
  /** i32: refreshes made so far */
  export const refreshes: usize = 32;
  /** f64: seconds spent refreshing so far */
  export const refreshSeconds: usize = 40;
  /** i32: words with a row */
  export const vocab: usize = 48;
  /** i32: words in the popularity alias table in use */
  export const aliasSize: usize = 52;
  /** u32: byte offset of the alias table in use (prob f32[cap], then alias i32[cap]) */
  export const alias: usize = 56;
  /** u32: byte offset of the subsampling keep table in use */
  export const keep: usize = 60;
  /** i32: words in the keep table in use */
  export const keepSize: usize = 64;
  /** i32: words reserved */
  export const cap: usize = 68;
  export const BYTES: usize = 72;
}

/** a skip-gram kernel instance's layout and settings */
export namespace SgnsConfig {
  /** i32: floats per row (dim rounded up to 4; padding stays 0) */
  export const stride: usize = 0;
  /** i32: real dimensions (the rank tables exist for these) */
  export const dim: usize = 4;
  /** u32: byte offset of the input vectors */
  export const input: usize = 8;
  /** u32: byte offset of the output vectors */
  export const output: usize = 12;
  /** u32: byte offset of the sigmoid table */
  export const sigmoid: usize = 16;
  /** u32: byte offset of the control block */
  export const control: usize = 20;
  /** i32: largest window */
  export const window: usize = 24;
  /** i32: negatives per pair */
  export const negatives: usize = 28;
  /** i32: 1: frequent-word subsampling by the keep table */
  export const subsample: usize = 32;
  /** i32: SgnsSampler code */
  export const sampler: usize = 36;
  /** f32: adaptive: share of popularity draws mixed in */
  export const mixShare: usize = 40;
  /** i32: adaptive: redraws of the centre word before the popularity fallback */
  export const maxRetries: usize = 44;
  /** u32: byte offset of the changed-word flags (0: not tracked) */
  export const changed: usize = 48;
  /** i32: 1: the tables rank only the most frequent words on purpose (the rest come from the popularity mix) */
  export const headOnly: usize = 52;
  /** u32: byte offset of this thread's gradient accumulator f32[stride] */
  export const neu1e: usize = 56;
  /** u32: byte offset of this thread's sentence buffer */
  export const sentence: usize = 60;
  /** u32: byte offset of this thread's targets i32[negatives + 1] */
  export const targets: usize = 64;
  /** u32: byte offset of the changed-output-row flags (0: not tracked) */
  export const changedOutput: usize = 68;
  export const BYTES: usize = 72;
}

/** a skip-gram kernel instance's running totals */
export namespace SgnsCounters {
  /** f64: (centre, context) pairs trained */
  export const pairs: usize = 0;
  /** f64: negative draws */
  export const draws: usize = 8;
  /** f64: adaptive draws that fell back to popularity */
  export const fallbacks: usize = 16;
  /** f64: draws from the popularity mix or the words added since the last refresh */
  export const mixed: usize = 24;
  /** f64: log loss summed over the measured pairs (one in 16) */
  export const lossSum: usize = 32;
  /** f64: pairs whose loss was measured */
  export const lossPairs: usize = 40;
  export const BYTES: usize = 48;
}

/** the image-label kernel's negative samplers */
export namespace VseSampler {
  /** uniform non-positive labels; with candidates > 1, the highest-scoring of that many (dynamic negative sampling) */
  export const uniform: i32 = 0;
  /** WARP: uniform draws until one violates the margin (at most max-sampled), the step weighted by the rank it implies */
  export const warp: i32 = 1;
  /** the papers' factor-wise rank tables (VSE-ens, Chen et al.), refreshed every ceil(|A| ln |A|) draws */
  export const adaptive: i32 = 2;
  /** labels in proportion to their observed pairs (the label of a random observed pair); with candidates > 1, the highest-scoring of that many */
  export const popularity: i32 = 3;
  /** in-batch negatives: popularity draws whose score is lowered by log(|A| q) in the hinge (the log-frequency correction of sampled softmax), so popular labels are not over-penalised */
  export const inbatch: i32 = 4;
  /** self-adversarial: candidates uniform labels, each violator updated with its softmax weight exp(t s) / sum (Sun et al., RotatE) */
  export const adversarial: i32 = 5;
  /** by the label count (what won the convergence benchmarks): uniform below auto-dns-labels, the hardest of auto-candidates uniform draws from there, WARP from auto-labels */
  export const auto: i32 = 6;
}

/** the skip-gram kernel's negative samplers */
export namespace SgnsSampler {
  /** word2vec's unigram^alpha negatives, from an alias table */
  export const popularity: i32 = 0;
  /** Chen et al.'s rank-table negatives for the context's input vector, with a popularity share mixed in */
  export const adaptive: i32 = 1;
}
