import { Rng, defaultImageLabelConfig, evaluateAnnotation, resolvePairs, type LabeledImage, type Optimizer, type SamplerStats } from '@freshet/core';
import { ImageLabelFitter, type VseSamplerSpec } from '@freshet/kernels';

/** One contender's setting: sampler, optimiser and their knobs. */
export interface Setting {
  sampler: VseSamplerSpec['kind'];
  optimizer: Optimizer;
  labelBias: boolean;
  lr: number;
  reg: number;
  /** candidates scored per draw, the hardest kept (uniform source: dynamic negative sampling) */
  candidates?: number;
  /** adaptive: λ as a fraction of the labels; Infinity is the uniform limit */
  lambdaFraction?: number;
  /** WARP: cap on draws per step (Infinity: |A| - 1) */
  maxSampled?: number;
  /** adaptive: draws between refreshes (default the papers' ceil(|A| ln |A|)) */
  refreshEvery?: number;
  /** adaptive: rebuild the rank tables on a second thread */
  asyncRefresh?: boolean;
}

export interface CurvePoint {
  seconds: number;
  cpuSeconds: number;
  steps: number;
  p5: number;
  map: number;
}

export interface CurveResult {
  setting: Setting;
  curve: CurvePoint[];
  bestP5: number;
  bestMap: number;
  usPerStep: number;
  steps: number;
  stats: SamplerStats & { updates: number };
  /**
   * The run blew up: non-finite vectors, or P@5 at the end below a quarter of its best. A setting
   * that diverges can pass through a lucky spike on the way; tuning must not pick it.
   */
  diverged: boolean;
  /** never better than its first evaluation: the flat start every learner shows, not a learned model */
  flat: boolean;
}

export interface CurveOptions {
  dim: number;
  budgetSeconds: number;
  /** first evaluation after this much training time; later ones on a geometric grid */
  firstSliceSeconds: number;
  sliceGrowth: number;
  seed: number;
  /** stop early once held-out P@5 has not improved for this many evaluations (tuning) */
  patience?: number;
  /**
   * Patience counts only after this much training time and at least one epoch (a pass over the
   * training pairs): before it, held-out P@5 sits at the label-bias level for a while, and a rule
   * that stops there chooses among settings by noise. The same rule binds the peers
   * (bench/python/protocol.py).
   */
  warmupSeconds?: number;
}

/** The kernel's sampler spec for a setting (λ = ∞ is the uniform sampler, by its limit). */
export function samplerSpec(s: Setting): VseSamplerSpec {
  const uniformLimit = s.sampler === 'adaptive' && s.lambdaFraction === Number.POSITIVE_INFINITY;
  return {
    kind: uniformLimit ? 'uniform' : s.sampler,
    candidates: s.candidates ?? 1,
    maxSampled: s.maxSampled ?? Number.POSITIVE_INFINITY,
    lambdaFraction: s.lambdaFraction ?? 0.3,
    mixShare: 0,
    maxRetries: 10,
    ...(s.refreshEvery !== undefined ? { refreshEvery: s.refreshEvery } : {}),
    asyncRefresh: s.asyncRefresh ?? false,
  };
}

/**
 * Trains one setting on `train` for budgetSeconds of training time (the WebAssembly kernel, one
 * thread) and evaluates held-out P@5 and MAP at geometrically spaced moments; evaluation is
 * excluded from both clocks (wall and process CPU).
 */
export async function trainCurve(
  train: readonly LabeledImage[],
  heldOut: ReadonlyArray<{ id: string; label: string }>,
  setting: Setting,
  opts: CurveOptions,
): Promise<CurveResult> {
  const trainer = await ImageLabelFitter.create(
    train,
    heldOut.map((p) => p.label),
    {
      config: { ...defaultImageLabelConfig, dim: opts.dim, reg: setting.reg, optimizer: setting.optimizer, labelBias: setting.labelBias },
      sampler: samplerSpec(setting),
      lr: setting.lr,
      engine: 'wasm',
      threads: 1,
      seed: opts.seed,
    },
  );
  const model = trainer.model;
  const evalPairs = resolvePairs(model, heldOut);
  const scorer = trainer.scorer();
  const evalRng = new Rng(opts.seed ^ 0x51f15eed);
  const curve: CurvePoint[] = [];
  let trained = 0;
  let cpu = 0;
  let steps = 0;
  let nextEval = opts.firstSliceSeconds;
  let sinceBest = 0;
  let best = -1;
  const batch = 256;
  while (trained < opts.budgetSeconds) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let elapsed = 0;
    while (trained + elapsed < nextEval) {
      await trainer.train(batch);
      steps += batch;
      elapsed = (performance.now() - t0) / 1000;
    }
    const c = process.cpuUsage(c0);
    trained += elapsed;
    cpu += (c.user + c.system) / 1e6;
    const m = evaluateAnnotation(model, evalPairs, evalRng, scorer);
    curve.push({ seconds: trained, cpuSeconds: cpu, steps, p5: m.p5, map: m.map });
    nextEval = Math.max(nextEval * opts.sliceGrowth, trained + 1e-4);
    const warm = trained >= (opts.warmupSeconds ?? 0) && steps >= trainer.pairs.length;
    if (m.p5 > best) {
      best = m.p5;
      sinceBest = 0;
    } else if (warm && opts.patience !== undefined && ++sinceBest >= opts.patience) break;
  }
  const stats = trainer.counters();
  await trainer.close();
  const bestP5 = Math.max(...curve.map((c) => c.p5));
  const w = model.width;
  const finite = allFinite(model.imageVectors.data, model.images.size * w) && allFinite(model.labelVectors.data, model.labels.size * w);
  return {
    setting,
    curve,
    diverged: !finite || curve[curve.length - 1].p5 < 0.25 * bestP5,
    flat: bestP5 <= curve[0].p5,
    bestP5,
    bestMap: Math.max(...curve.map((c) => c.map)),
    usPerStep: (trained * 1e6) / Math.max(1, steps),
    steps,
    stats,
  };
}

function allFinite(d: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

/** The first curve point at or above target (null: never within the budget). */
export function pointAtTarget<T extends { p5: number }>(curve: readonly T[], target: number): T | null {
  for (const c of curve) if (c.p5 >= target) return c;
  return null;
}
