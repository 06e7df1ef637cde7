import type { Matrix } from '../math/matrix.js';

/** The samplers of the TypeScript reference; every model takes any of them (the kernels list their own). */
export const SAMPLER_KINDS = ['uniform', 'popularity', 'warp', 'adaptive', 'exact'] as const;
export type SamplerKind = (typeof SAMPLER_KINDS)[number];

export function isSamplerKind(x: string): x is SamplerKind {
  return (SAMPLER_KINDS as readonly string[]).includes(x);
}

/** Counters every sampler keeps; services export them as Prometheus metrics. */
export interface SamplerStats {
  /** negatives returned (or given up on, for WARP) */
  draws: number;
  /** candidates rejected because they were positives of the context (then redrawn) */
  rejections: number;
  /** adaptive: draws that gave up on the rank tables after maxRetries and used the fallback */
  fallbacks: number;
  /** adaptive: draws deliberately taken from the mixed-in fallback share or for unindexed new items */
  mixed: number;
  /** WARP: candidates scored in total */
  candidatesScored: number;
  /** WARP: steps where no violator was found within the cap (no update) */
  noViolator: number;
  /** rank-table or alias-table rebuilds */
  refreshes: number;
  /** total seconds spent in rebuilds */
  refreshSeconds: number;
}

export function emptyStats(): SamplerStats {
  return {
    draws: 0,
    rejections: 0,
    fallbacks: 0,
    mixed: 0,
    candidatesScored: 0,
    noViolator: 0,
    refreshes: 0,
    refreshSeconds: 0,
  };
}

/**
 * Draws negative items (labels, or output words in skip-gram) for a context vector (an image
 * vector, or a word's input vector). The calling convention keeps hot loops free of allocation:
 * set the context once, then draw as many negatives as needed for it.
 */
export interface NegativeSampler {
  readonly kind: SamplerKind;
  readonly stats: SamplerStats;
  /** Gradient weight of the last draw: WARP's rank weight L(floor((|A|-1)/N)), 1 for the others. */
  readonly lastWeight: number;
  /** The context for the following draws: row `offset / dim` of `vectors`. */
  setContext(vectors: Float32Array, offset: number): void;
  /**
   * One negative for the current context that is neither `positive` nor in
   * exclude[0..excludeLength); -1 when the step should make no update (WARP without violator, or
   * every item is a positive).
   */
  draw(positive: number, exclude: Int32Array, excludeLength: number): number;
}

/** The item vectors a sampler ranks: read on every draw (rows grow as the vocabulary grows). */
export interface ItemSource {
  readonly items: Matrix;
}

/** Linear membership test: positive lists are short (a few labels per image, one target word). */
export function isExcluded(id: number, positive: number, exclude: Int32Array, excludeLength: number): boolean {
  if (id === positive) return true;
  for (let i = 0; i < excludeLength; i++) if (exclude[i] === id) return true;
  return false;
}

export const NO_EXCLUDE = new Int32Array(0);
