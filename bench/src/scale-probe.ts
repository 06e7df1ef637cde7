/**
 * A first look at the learning core at the papers' label-space scale (issue 16, not its
 * benchmark): our samplers at their default settings, one seed, no tuning and no peers, trained
 * for a fixed time on Gowalla (users x locations, or the transpose) or a tag set, with Recall@20
 * and NDCG@20 over a full ranking (every label the image has not trained on) on a fixed sample of
 * held-out images, evaluation timed apart and excluded from the training clock.
 *
 *   npm run bench:scale-probe -- [--set gowalla|gowalla-t|mirflickr-tags|delicious] [--budget 120]
 *        [--eval-images 2000] [--samplers uniform,dns,warp,adaptive-async]
 *        [--peers lightfm-warp,lightfm-bpr,implicit-als,implicit-bpr]
 *        [--seed 1] [--out FILE]
 *
 * Peers (bench/python/scale_probe_peer.py): LightFM WARP/BPR and implicit ALS/BPR at their
 * documented defaults (PEER_DEFAULTS), same dimension, one thread, the same pairs, evaluation images and metrics, at
 * the first epoch past each of our evaluation moments.
 *
 * Gowalla: trains on train, evaluates on valid (the split tuning would use). Tag sets: a seeded
 * 80/20 split of each image's labels.
 */
import { imageLabelsSettings } from '@freshet/pipeline';
import { numberArg, parseArgs } from './lib/args.js';
import type { Setting } from './lib/convergence-run.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { evaluationSample, loadSplit, runOurs, runPeer } from './lib/scale-run.js';

const args = parseArgs(process.argv.slice(2));
const set = args.get('set') ?? 'gowalla';
const budget = numberArg(args, 'budget', 120);
const evalImages = numberArg(args, 'eval-images', 2000);
const seed = numberArg(args, 'seed', 1);
const samplers = (args.get('samplers') ?? 'uniform,dns,warp,adaptive-async').split(',').filter((x) => x !== '');
const peers = (args.get('peers') ?? 'lightfm-warp,lightfm-bpr,implicit-als,implicit-bpr').split(',').filter((x) => x !== '');
/** our evaluation moments (seconds of training): the peers are evaluated at their first epoch past each */
const grid = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1].map((f) => f * budget);

const split = loadSplit(set, 'tune');
const { train } = split;
const defaults = imageLabelsSettings.defaults;
const base = { optimizer: defaults.optimizer, labelBias: defaults.labelBias, lr: defaults.lr, reg: defaults.reg };
const settings: Record<string, Setting> = {
  uniform: { sampler: 'uniform', ...base },
  dns: { sampler: 'uniform', candidates: 4, ...base },
  warp: { sampler: 'warp', maxSampled: defaults.maxSampled, ...base },
  'adaptive-async': { sampler: 'adaptive', asyncRefresh: true, lambdaFraction: defaults.lambdaFraction, ...base },
};
const evalSet = evaluationSample(split.test, evalImages);
const log = (line: string): void => void process.stderr.write(`[scale-probe] ${line}\n`);
log(
  `${set}: ${train.length} images, ${new Set(train.flatMap((i) => i.labels)).size} labels trained, ${train.reduce((n, i) => n + i.labels.length, 0)} pairs; evaluating ${evalSet.length} images`,
);

/** Each peer's default settings (as its documentation gives them). */
const PEER_DEFAULTS: Record<string, Record<string, number>> = {
  'lightfm-warp': { learning_rate: 0.05, max_sampled: 10 },
  'lightfm-bpr': { learning_rate: 0.05 },
  'implicit-als': { regularization: 0.01, alpha: 1 },
  'implicit-bpr': { learning_rate: 0.01, regularization: 0.01 },
};

const results: Record<string, unknown> = {};
for (const name of samplers) {
  const s = settings[name];
  if (s === undefined) throw new Error(`unknown sampler ${name} (${Object.keys(settings).join(', ')})`);
  const r = await runOurs(name, s, split, evalSet, { dim: defaults.dim, seed, grid, log });
  results[name] = { ...r, best: { recall20: Math.max(...r.curve.map((c) => c.recall20)), ndcg20: Math.max(...r.curve.map((c) => c.ndcg20)) } };
}
const peerResults: Record<string, unknown> = {};
for (const name of peers) {
  try {
    peerResults[name] = runPeer(name, PEER_DEFAULTS[name] ?? {}, split, evalSet, { dim: defaults.dim, seed, grid });
  } catch (err) {
    peerResults[name] = { error: (err as Error).message };
  }
}
emitResult(
  {
    benchmark: 'scale-probe',
    environment: runEnvironment(),
    protocol: {
      set,
      budgetSeconds: budget,
      evalImages: evalSet.length,
      seed,
      dim: defaults.dim,
      note: 'default settings, no tuning, no peers, one seed: a first look, not the issue 16 benchmark',
    },
    data: { images: train.length, labels: new Set(train.flatMap((i) => i.labels)).size, pairs: train.reduce((n, i) => n + i.labels.length, 0) },
    results,
    peers: peerResults,
  },
  args.get('out'),
);
