/**
 * Convergence benchmark: our samplers and optimisers against each other and against LightFM (WARP
 * and BPR) on one leave-one-out split and seed. Every contender gets the same tuning budget: the
 * same number of settings (a learning-rate grid times one knob of its own), tried on the same
 * validation split carved from the training data, chosen by the same rule; then the chosen
 * setting trains on the full training part and held-out P@5 and MAP are recorded on a geometric
 * time grid, evaluation excluded from the clocks (wall and CPU). Prints JSON.
 *
 *   npm run bench:convergence -- --train F [--test F] [--budget-seconds S] [--seed N]
 *   npm run bench:convergence -- --synthetic-labels 5000 [--synthetic-images 20000] ...
 */
import { writeFileSync } from 'node:fs';
import { Rng, leaveOneOut, mergeById, type LabeledImage } from '@freshet/core';
import { generateSynthetic, readImageLabelFile } from '@freshet/datasets';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { pointAtTarget, trainCurve, type CurveOptions, type CurvePoint, type CurveResult, type Setting } from './lib/convergence-run.js';
import { AUTO_SAMPLER_LABELS as AUTO_LABELS } from '@freshet/kernels';
import { runEnvironment } from './lib/environment.js';
import { runLightFm, type LightFmRun, type LightFmSetting } from './lib/lightfm.js';

const args = parseArgs(process.argv.slice(2));
const seed = numberArg(args, 'seed', 1);
const budget = numberArg(args, 'budget-seconds', 3);
const tuneBudget = numberArg(args, 'tune-budget-seconds', budget / 2);
const lrGrid = listArg(args, 'lr-grid', [0.01, 0.02, 0.05, 0.1]);
const sgdLrGrid = listArg(args, 'sgd-lr-grid', [0.003, 0.01, 0.03, 0.1]);
const reg = numberArg(args, 'reg', 0.003);
const maxEval = numberArg(args, 'max-eval', 3000);
const dim = numberArg(args, 'dim', 100);
const withLightFm = args.get('lightfm') !== 'false';
const sliceGrowth = numberArg(args, 'slice-growth', 1.15);
const patience = numberArg(args, 'patience', 8);
const only = args.get('contenders')?.split(',');
const INF = Number.POSITIVE_INFINITY;

/** Our contenders: a base setting, and the knob each tunes beside the learning rate (5 values). */
interface Contender {
  base: Omit<Setting, 'lr'>;
  lrs: number[];
  knob: { name: 'reg' | 'maxSampled' | 'lambdaFraction' | 'candidates'; values: number[] };
  about: string;
}

const adagrad = { optimizer: 'adagrad', labelBias: true, reg } as const;
const contenders: Record<string, Contender> = {
  uniform: {
    base: { ...adagrad, sampler: 'uniform' },
    lrs: lrGrid,
    knob: { name: 'reg', values: [0, 0.001, 0.003, 0.01, 0.03] },
    about: 'uniform negatives, AdaGrad, label biases: the control',
  },
  dns: {
    base: { ...adagrad, sampler: 'uniform' },
    lrs: lrGrid,
    knob: { name: 'candidates', values: [2, 3, 4, 6, 8] },
    about: 'the hardest of c uniform candidates (dynamic negative sampling), AdaGrad, biases',
  },
  warp: {
    base: { ...adagrad, sampler: 'warp' },
    lrs: lrGrid,
    knob: { name: 'maxSampled', values: [3, 10, 30, 100, INF] },
    about: "WARP, AdaGrad, biases (LightFM's model in our kernel)",
  },
  adaptive: {
    base: { ...adagrad, sampler: 'adaptive' },
    lrs: lrGrid,
    knob: { name: 'lambdaFraction', values: [0.1, 0.3, 1, 2, INF] },
    about: "the papers' rank-table sampler (λ = ∞ is uniform), AdaGrad, biases",
  },
  'adaptive-async': {
    base: { ...adagrad, sampler: 'adaptive', asyncRefresh: true },
    lrs: lrGrid,
    knob: { name: 'lambdaFraction', values: [0.1, 0.3, 1, 2, INF] },
    about: "the papers' sampler with its rank tables rebuilt on a second thread (training never waits for a sort), AdaGrad, biases",
  },
  'uniform-sgd': {
    base: { optimizer: 'sgd', labelBias: false, reg: 0.01, sampler: 'uniform' },
    lrs: sgdLrGrid,
    knob: { name: 'reg', values: [0, 0.001, 0.003, 0.01, 0.03] },
    about: "uniform negatives, plain SGD, no biases (the papers' model)",
  },
  'warp-sgd': {
    base: { optimizer: 'sgd', labelBias: false, reg: 0.01, sampler: 'warp' },
    lrs: sgdLrGrid,
    knob: { name: 'maxSampled', values: [3, 10, 30, 100, INF] },
    about: 'WARP, plain SGD, no biases',
  },
};
/**
 * What we ship as the default (the CLI's and the trainer's `auto` sampler): uniform negatives
 * below AUTO_LABELS labels, WARP from there. Its ratios are the headline.
 */
const defaultFor = (labelCount: number): string => (labelCount >= AUTO_LABELS ? 'warp' : 'uniform');

function settingsOf(c: Contender): Setting[] {
  return c.lrs.flatMap((lr) => c.knob.values.map((value) => ({ ...c.base, lr, [c.knob.name]: value }) as Setting));
}

function loadImages(): { name: string; images: LabeledImage[] } {
  const synthLabels = args.get('synthetic-labels');
  if (synthLabels !== undefined) {
    const labels = Number(synthLabels);
    const images = numberArg(args, 'synthetic-images', 20_000);
    const rank = numberArg(args, 'synthetic-rank', 16);
    return {
      name: `synthetic(images=${images},labels=${labels},rank=${rank},seed=${seed})`,
      images: generateSynthetic({ images, labels, rank, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed }),
    };
  }
  const train = args.get('train');
  if (train === undefined) throw new Error('give --train FILE [--test FILE], or --synthetic-labels N');
  const test = args.get('test');
  const sets = [readImageLabelFile(train)];
  if (test !== undefined) sets.push(readImageLabelFile(test));
  return { name: [train, test].filter(Boolean).join(' + '), images: mergeById(...sets) };
}

function subsample<T>(items: readonly T[], max: number, rng: Rng): T[] {
  const copy = [...items];
  rng.shuffle(copy);
  return copy.slice(0, Math.min(max, copy.length));
}

/** Best validation P@5 among settings that did not diverge; within 1% of it, the one first at 99% of its own best. */
function choose(all: CurveResult[]): CurveResult {
  const stable = all.filter((r) => !r.diverged);
  const results = stable.length > 0 ? stable : all;
  const top = Math.max(...results.map((r) => r.bestP5));
  const near = results.filter((r) => r.bestP5 >= 0.99 * top);
  near.sort((a, b) => (pointAtTarget(a.curve, 0.99 * a.bestP5)?.seconds ?? INF) - (pointAtTarget(b.curve, 0.99 * b.bestP5)?.seconds ?? INF));
  return near[0];
}

const { name, images } = loadImages();
const rng = new Rng(seed);
const split = leaveOneOut(images, rng.fork());
// validation: a second leave-one-out inside the training data
const inner = leaveOneOut(split.train, rng.fork());
const validation = subsample(inner.test, maxEval, rng.fork());
const test = subsample(split.test, maxEval, rng.fork());
const labels = new Set(images.flatMap((i) => i.labels)).size;
const curveOpts = (b: number, stopEarly: boolean): CurveOptions => ({
  dim,
  budgetSeconds: b,
  firstSliceSeconds: numberArg(args, 'first-slice-seconds', 0.002),
  sliceGrowth,
  seed,
  ...(stopEarly ? { patience } : {}),
});

// warm the JIT and the kernels on every code path so no contender pays compilation inside its clock
for (const c of Object.values(contenders)) await trainCurve(inner.train.slice(0, 500), validation.slice(0, 50), settingsOf(c)[0], curveOpts(0.1, false));

const names = Object.keys(contenders).filter((n) => only === undefined || only.includes(n));
const tuning: Record<string, Array<{ setting: Setting; validationBestP5: number; diverged: boolean }>> = {};
const final: Record<string, CurveResult> = {};
for (const n of names) {
  const results: CurveResult[] = [];
  for (const s of settingsOf(contenders[n])) results.push(await trainCurve(inner.train, validation, s, curveOpts(tuneBudget, true)));
  tuning[n] = results.map((r) => ({ setting: r.setting, validationBestP5: round(r.bestP5), diverged: r.diverged }));
  const chosen = choose(results).setting;
  process.stderr.write(`[convergence] ${n}: chose ${JSON.stringify(chosen)}\n`);
  final[n] = await trainCurve(split.train, test, chosen, curveOpts(budget, false));
}

const lightfmGrid = { first: 0.002, growth: sliceGrowth, patience };
const lightfm: Record<string, LightFmRun | { error: string } | string> = {};
if (withLightFm) {
  const splits = { innerTrain: inner.train, validation, train: split.train, test };
  const common = { dim, seed, tuneBudget, budget, grid: lightfmGrid };
  lightfm.warp = runLightFm(splits, {
    ...common,
    loss: 'warp',
    settings: lrGrid.flatMap((lr) => [3, 10, 30, 100, labels - 1].map((m): LightFmSetting => ({ learning_rate: lr, max_sampled: m }))),
  });
  lightfm.bpr = runLightFm(splits, {
    ...common,
    loss: 'bpr',
    settings: lrGrid.flatMap((lr) => [0, 1e-6, 1e-5, 1e-4, 1e-3].map((alpha): LightFmSetting => ({ learning_rate: lr, alpha }))),
  });
} else {
  lightfm.warp = lightfm.bpr = 'skipped (--lightfm false)';
}

// every contender's curve as points with wall and CPU seconds
const curves: Record<string, CurvePoint[]> = Object.fromEntries(Object.entries(final).map(([n, r]) => [n, r.curve]));
const best: Record<string, { p5: number; map: number }> = Object.fromEntries(Object.entries(final).map(([n, r]) => [n, { p5: r.bestP5, map: r.bestMap }]));
for (const [loss, run] of Object.entries(lightfm)) {
  if (typeof run === 'object' && 'final' in run) {
    curves[`lightfm-${loss}`] = run.final.curve.map(([seconds, cpuSeconds, steps, p5, map]) => ({ seconds, cpuSeconds, steps, p5, map }));
    best[`lightfm-${loss}`] = { p5: run.final.bestP5, map: run.final.bestMap };
  }
}

/** Seconds (wall and CPU) for each contender to reach 99% of a reference contender's best P@5. */
function toTarget(reference: string): { target: number; seconds: Record<string, { wall: number; cpu: number } | null> } | null {
  const ref = best[reference];
  if (ref === undefined) return null;
  const target = 0.99 * ref.p5;
  const seconds = Object.fromEntries(
    Object.entries(curves).map(([n, c]) => {
      const p = pointAtTarget(c, target);
      return [n, p === null ? null : { wall: round(p.seconds), cpu: round(p.cpuSeconds) }];
    }),
  );
  return { target: round(target), seconds };
}
const targets = { lightfm: toTarget('lightfm-warp'), uniform: toTarget('uniform'), warp: toTarget('warp') };
const ratio = (t: ReturnType<typeof toTarget>, reference: string, who: string): number | null => {
  const a = t?.seconds[reference];
  const b = t?.seconds[who];
  return a == null || b == null || b.wall === 0 ? null : round(a.wall / b.wall);
};
const speedups = Object.fromEntries(
  Object.keys(curves).map((n) => [
    n,
    { vsLightfm: ratio(targets.lightfm, 'lightfm-warp', n), vsUniform: ratio(targets.uniform, 'uniform', n), vsWarp: ratio(targets.warp, 'warp', n) },
  ]),
);

const result = {
  benchmark: 'convergence',
  dataset: name,
  images: images.length,
  labels,
  trainPairs: split.train.reduce((s, i) => s + i.labels.length, 0),
  testPairs: test.length,
  validationPairs: validation.length,
  default: `auto (${defaultFor(labels)} at ${labels} labels)`,
  defaultContender: defaultFor(labels),
  speedupVsLightfm: speedups[defaultFor(labels)]?.vsLightfm ?? null,
  speedupVsUniform: speedups[defaultFor(labels)]?.vsUniform ?? null,
  speedups,
  targets,
  targetRule: "0.99 x the reference's best held-out P@5 (LightFM WARP's, our uniform control's, our WARP's); seconds of training, evaluation excluded",
  contenders: Object.fromEntries(
    Object.entries(final).map(([n, r]) => [
      n,
      {
        about: contenders[n].about,
        chosen: r.setting,
        diverged: r.diverged,
        bestP5: round(r.bestP5),
        bestMap: round(r.bestMap),
        usPerStep: round(r.usPerStep),
        steps: r.steps,
        stats: r.stats,
        curve: r.curve.map((c) => [round(c.seconds), round(c.cpuSeconds), c.steps, round(c.p5), round(c.map)]),
      },
    ]),
  ),
  lightfm,
  grid: {
    budgetRule:
      'every contender: its learning-rate grid x 5 values of one knob of its own = 20 settings, tried on the same validation split, each until its budget or until P@5 has not improved for `patience` evaluations',
    lr: lrGrid,
    sgdLr: sgdLrGrid,
    knobs: Object.fromEntries(Object.entries(contenders).map(([n, c]) => [n, c.knob])),
    lightfmKnobs: { warp: { name: 'max_sampled', values: [3, 10, 30, 100, labels - 1] }, bpr: { name: 'alpha', values: [0, 1e-6, 1e-5, 1e-4, 1e-3] } },
    tuneBudgetSeconds: tuneBudget,
    patience,
    sliceGrowth,
    rule: 'best validation P@5 among settings that did not diverge; ties within 1% go to the one first at 99% of its own best',
  },
  tuning,
  settings: {
    dim,
    reg,
    budgetSeconds: budget,
    seed,
    maxEval,
    curveColumns: ['seconds', 'cpuSeconds', 'steps', 'p5', 'map'],
    lightfmCurveColumns: ['seconds', 'cpuSeconds', 'epochs', 'p5', 'map'],
  },
  environment: runEnvironment(),
};
// Infinity (λ = ∞, WARP without a cap) would print as null
const json = JSON.stringify(result, (_k, v: unknown) => (v === INF ? 'Infinity' : v), 2);
const out = args.get('out');
if (out !== undefined) writeFileSync(out, json + '\n');
process.stdout.write(json + '\n');

function round(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
