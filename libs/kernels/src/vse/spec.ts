import type { ImageLabelConfig, SamplerStats } from '@freshet/core';
import { VSE_SAMPLERS, type VseSamplerName } from '../abi.js';

export { VSE_SAMPLERS, type VseSamplerName };

/**
 * The `auto` sampler's bands of label counts, from the convergence benchmarks (3 seeds each, every
 * contender tuned): uniform below AUTO_DNS_LABELS (MIRFLICKR-25k's 38 labels and Corel5k's 374,
 * where tuned uniform reached LightFM's target first); the hardest of AUTO_CANDIDATES uniform
 * draws from there (Delicious' 983 tags and MIRFLICKR-25k's 1,386 user tags, where it reached the
 * best peer's Recall@20 sooner than uniform and far sooner than WARP); WARP from
 * AUTO_SAMPLER_LABELS (the 4,853 labels of the synthetic set and Gowalla's 40,979).
 */
export const AUTO_SAMPLER_LABELS = 3000;
export const AUTO_DNS_LABELS = 500;
export const AUTO_CANDIDATES = 4;

/**
 * What `auto` means for a label count: the same rule the kernel applies at every call (it
 * switches as a stream's labels grow), for code that knows the count up front.
 */
export function resolveAutoSampler(kind: VseSamplerName, labels: number, autoLabels = AUTO_SAMPLER_LABELS): Exclude<VseSamplerName, 'auto'> {
  if (kind !== 'auto') return kind;
  return labels >= autoLabels ? 'warp' : 'uniform';
}

/** The candidates per uniform draw a spec means at a label count (auto's own count in its middle band). */
export function resolveAutoCandidates(spec: Pick<VseSamplerSpec, 'kind' | 'candidates' | 'autoDnsLabels' | 'autoCandidates'>, labels: number): number {
  if (spec.kind !== 'auto' || labels < (spec.autoDnsLabels ?? AUTO_DNS_LABELS)) return spec.candidates;
  return spec.autoCandidates ?? AUTO_CANDIDATES;
}

/** The negative sampler the kernel runs and its settings (the TypeScript reference has the same ones). */
export interface VseSamplerSpec {
  /** one of VSE_SAMPLERS (src/abi.ts), whose help says what each does */
  kind: VseSamplerName;
  /** auto: the label count from which WARP is drawn (default AUTO_SAMPLER_LABELS) */
  autoLabels?: number;
  /** auto: the label count from which the hardest of autoCandidates uniform draws is kept (default AUTO_DNS_LABELS) */
  autoDnsLabels?: number;
  /** auto: uniform candidates per draw from autoDnsLabels (default AUTO_CANDIDATES) */
  autoCandidates?: number;
  /** candidates scored per draw, the hardest kept (1: the plain sampler) */
  candidates: number;
  /** WARP: cap on draws per step (Infinity: |A| - 1) */
  maxSampled: number;
  /** adaptive: λ as a fraction of the labels (or `lambda` in rank units) */
  lambdaFraction: number;
  lambda?: number;
  /** adaptive: share of uniform draws mixed in */
  mixShare: number;
  /** adaptive: redraws after positives before the uniform fallback */
  maxRetries: number;
  /** adaptive: draws between table refreshes (default ceil(|A| ln |A|)) */
  refreshEvery?: number;
  /** adaptive: refresh on a thread of its own, never stopping training for a sort */
  asyncRefresh?: boolean;
  /** adversarial: inverse temperature of the candidates' softmax weights (default 1) */
  temperature?: number;
}

export interface VseSpec {
  config: ImageLabelConfig;
  /** room for observed pairs (offline: all of them; streaming: the replay memory) */
  pairCapacity: number;
  /** room for positive label ids (default 16 per image of the cap) */
  positiveSlots?: number;
  /** room for explicit pairs per trainList call, per thread */
  listCapacity?: number;
  /** kernel instances that will attach, the creating one included (each gets its own list and blocks) */
  threads?: number;
  /** keep a changed-row flag per image and label (the streaming trainer publishes those rows) */
  trackChanges?: boolean;
  sampler: VseSamplerSpec;
}

/** What a Hogwild thread receives to attach to the same memory. */
export interface VseShare {
  spec: VseSpec;
  memory: WebAssembly.Memory;
}

/** Running totals of one kernel instance (or summed over threads). */
export interface VseCounters extends SamplerStats {
  steps: number;
  updates: number;
  lossSum: number;
}
