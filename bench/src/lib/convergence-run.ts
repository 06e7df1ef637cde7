import {
  ImageLabelModel,
  Rng,
  createSampler,
  defaultImageLabelConfig,
  defaultSamplerConfig,
  evaluateAnnotation,
  observeAll,
  resolvePairs,
  trainImageLabelSteps,
  type LabeledImage,
  type NegativeSampler,
  type SamplerKind,
  type SamplerStats,
} from '@freshet/core';

export interface SamplerSetting {
  sampler: SamplerKind;
  lr: number;
  /** adaptive only */
  lambdaFraction?: number;
  /** adaptive only: candidates re-scored per draw (1 = the paper's sampler) */
  candidates?: number;
}

export interface CurvePoint {
  seconds: number;
  steps: number;
  p5: number;
  map: number;
}

export interface CurveResult {
  setting: SamplerSetting;
  curve: CurvePoint[];
  bestP5: number;
  bestMap: number;
  usPerStep: number;
  steps: number;
  stats: SamplerStats;
  /**
   * The run blew up: non-finite vectors, or P@5 at the end below a quarter of its best. A setting
   * that diverges can pass through a lucky spike on the way; tuning must not pick it.
   */
  diverged: boolean;
}

export interface CurveOptions {
  dim: number;
  reg: number;
  budgetSeconds: number;
  /** first evaluation after this much training time; later ones on a geometric grid */
  firstSliceSeconds: number;
  sliceGrowth: number;
  seed: number;
}

function makeSampler(model: ImageLabelModel, s: SamplerSetting, rng: Rng): NegativeSampler {
  return createSampler(
    {
      ...defaultSamplerConfig,
      kind: s.sampler,
      lambdaFraction: s.lambdaFraction ?? defaultSamplerConfig.lambdaFraction,
      candidates: s.candidates ?? 1,
      fallback: 'uniform',
    },
    model.labelVectors,
    () => model.labels.counts,
    rng,
  );
}

/**
 * Trains one sampler setting on `train` for budgetSeconds of training time and evaluates held-out
 * P@5 and MAP at geometrically spaced moments; evaluation is excluded from the clock.
 */
export function trainCurve(
  train: readonly LabeledImage[],
  heldOut: ReadonlyArray<{ id: string; label: string }>,
  setting: SamplerSetting,
  opts: CurveOptions,
): CurveResult {
  const rng = new Rng(opts.seed);
  const model = new ImageLabelModel({ ...defaultImageLabelConfig, dim: opts.dim, reg: opts.reg }, rng.fork());
  const pairs = observeAll(model, train);
  // a label seen only in held-out data still needs a vector to be ranked (it is never a positive)
  for (const p of heldOut) model.labelId(p.label);
  const evalPairs = resolvePairs(model, heldOut);
  const sampler = makeSampler(model, setting, rng.fork());
  const stepRng = rng.fork();
  const evalRng = new Rng(opts.seed ^ 0x51f15eed);
  const curve: CurvePoint[] = [];
  let trained = 0;
  let steps = 0;
  let nextEval = opts.firstSliceSeconds;
  const batch = 64;
  while (trained < opts.budgetSeconds) {
    const t0 = performance.now();
    let elapsed = 0;
    while (trained + elapsed < nextEval) {
      trainImageLabelSteps(model, pairs, sampler, batch, setting.lr, stepRng);
      steps += batch;
      elapsed = (performance.now() - t0) / 1000;
    }
    trained += elapsed;
    const m = evaluateAnnotation(model, evalPairs, evalRng);
    curve.push({ seconds: trained, steps, p5: m.p5, map: m.map });
    nextEval = Math.max(nextEval * opts.sliceGrowth, trained + 1e-4);
  }
  const bestP5 = Math.max(...curve.map((c) => c.p5));
  const finite = allFinite(model.imageVectors.data, model.imageVectors.rows * opts.dim) && allFinite(model.labelVectors.data, model.labelVectors.rows * opts.dim);
  return {
    setting,
    curve,
    diverged: !finite || curve[curve.length - 1].p5 < 0.25 * bestP5,
    bestP5,
    bestMap: Math.max(...curve.map((c) => c.map)),
    usPerStep: (trained * 1e6) / Math.max(1, steps),
    steps,
    stats: { ...sampler.stats },
  };
}

function allFinite(d: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

/** Training seconds until held-out P@5 first reaches target (null: never within the budget). */
export function secondsToTarget(curve: readonly CurvePoint[], target: number): number | null {
  for (const c of curve) if (c.p5 >= target) return c.seconds;
  return null;
}
