import type { Matrix } from '../math/matrix.js';
import type { Rng } from '../math/rng.js';
import { AdaptiveSampler } from './adaptive.js';
import { ExactRankSampler } from './exact.js';
import { PopularitySampler } from './popularity.js';
import type { NegativeSampler, SamplerKind } from './sampler.js';
import { UniformSampler } from './uniform.js';
import { WarpSampler } from './warp.js';

/** Every knob of every sampler, with the defaults we ship. */
export interface SamplerConfig {
  kind: SamplerKind;
  /** adaptive/exact: λ as a fraction of the number of items */
  lambdaFraction: number;
  /** adaptive: fixed λ in rank units (overrides lambdaFraction) */
  lambda?: number;
  /** adaptive: draws between refreshes (default ceil(|A| ln |A|)) */
  refreshEvery?: number;
  /** adaptive: share of draws from the fallback sampler */
  mixShare: number;
  /** uniform and adaptive: candidates scored per draw, the hardest kept (1 = the plain sampler) */
  candidates: number;
  /** adaptive: redraws after positives before the fallback */
  maxRetries: number;
  /** adaptive: refresh inside draw() on cadence (services refresh off the hot path instead) */
  autoRefresh: boolean;
  /** popularity: exponent on counts */
  alpha: number;
  /** popularity: draws between alias-table rebuilds */
  rebuildEvery: number;
  /** WARP: cap on draws per step */
  maxSampled: number;
  /** the fallback of the adaptive sampler: uniform (image labels) or popularity (words) */
  fallback: 'uniform' | 'popularity';
}

export const defaultSamplerConfig: SamplerConfig = {
  kind: 'adaptive',
  lambdaFraction: 0.2,
  mixShare: 0,
  candidates: 1,
  maxRetries: 10,
  autoRefresh: true,
  alpha: 0.75,
  rebuildEvery: 1_000_000,
  maxSampled: Number.POSITIVE_INFINITY,
  fallback: 'uniform',
};

/** Builds a sampler over `items`, with `counts` feeding popularity (labels' or words' counts). */
export function createSampler(config: SamplerConfig, items: Matrix, counts: () => ArrayLike<number>, rng: Rng): NegativeSampler {
  const popularity = (): PopularitySampler => new PopularitySampler(counts, rng, { alpha: config.alpha, rebuildEvery: config.rebuildEvery });
  switch (config.kind) {
    case 'uniform':
      return new UniformSampler(items, rng, config.candidates);
    case 'popularity':
      return popularity();
    case 'warp':
      return new WarpSampler(items, rng, config.maxSampled);
    case 'exact':
      return new ExactRankSampler(items, rng, config.lambdaFraction);
    case 'adaptive': {
      const fallback = config.fallback === 'popularity' ? popularity() : new UniformSampler(items, rng);
      return new AdaptiveSampler(items, rng, fallback, {
        ...(config.lambda !== undefined ? { lambda: config.lambda } : { lambdaFraction: config.lambdaFraction }),
        ...(config.refreshEvery !== undefined ? { refreshEvery: config.refreshEvery } : {}),
        mixShare: config.mixShare,
        candidates: config.candidates,
        maxRetries: config.maxRetries,
        autoRefresh: config.autoRefresh,
      });
    }
  }
}
