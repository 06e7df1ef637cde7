import { SGNS_SAMPLERS, type SgnsSamplerName } from '../abi.js';

export { SGNS_SAMPLERS, type SgnsSamplerName };

/** Everything the kernel needs to lay out its memory; identical in every thread. */
export interface SgnsSpec {
  dim: number;
  /** most words with a row (offline: the vocabulary; streaming: the cap) */
  vocabCap: number;
  window: number;
  negatives: number;
  /** subsampling threshold (0: off) */
  sample: number;
  /** popularity exponent for the alias table */
  alpha: number;
  /** one of SGNS_SAMPLERS (src/abi.ts) */
  sampler: SgnsSamplerName;
  /** adaptive: λ as a fraction of the vocabulary */
  lambdaFraction: number;
  /** adaptive: share of popularity draws mixed in */
  mixShare: number;
  /** adaptive: draws between table refreshes (0: ceil(|V| ln |V|)) */
  refreshEvery: number;
  /** adaptive: refresh on a thread of its own, never stopping training for a sort */
  asyncRefresh?: boolean;
  /**
   * adaptive: rank only the `head` most frequent words (ids are frequency-ranked offline); the
   * rest are drawn through the popularity mix. Their rows stay in cache and a refresh sorts
   * head items instead of |V|. 0: every word.
   */
  head?: number;
  /** corpus slots (offline: one, shared by every thread; streaming: one per thread) */
  slots: number;
  /** tokens and sentences a slot holds */
  slotTokens: number;
  slotSentences: number;
  /** longest sentence (per-thread scratch) */
  maxSentence: number;
  threads: number;
  /** keep a changed-row flag per word (the streaming trainer publishes those input vectors) */
  trackChanges?: boolean;
}

/** What a Hogwild thread receives to attach to the same memory. */
export interface SgnsShare {
  spec: SgnsSpec;
  memory: WebAssembly.Memory;
}

/** A slot's corpus: fill ids and starts (sentence s spans ids[starts[s] .. starts[s+1])). */
export interface CorpusSlot {
  ids: Int32Array;
  starts: Int32Array;
}

/** Running totals of one kernel instance (or summed over threads). */
export interface SgnsCounters {
  pairs: number;
  draws: number;
  fallbacks: number;
  mixed: number;
  /** log loss summed over the pairs (estimated from the measured one in 16) */
  lossSum: number;
}
