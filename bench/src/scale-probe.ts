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
import { Rng, fullRanking, holdOutShare, type LabeledImage, type RankingCase } from '@freshet/core';
import { readDelicious, readGowalla, readMirflickrTags } from '@freshet/datasets';
import { ImageLabelFitter, imageLabelConfig } from '@freshet/kernels';
import { imageLabelsSettings } from '@freshet/pipeline';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, parseArgs } from './lib/args.js';
import { pythonVenv } from './lib/peers.js';
import { samplerSpec, type Setting } from './lib/convergence-run.js';
import { emitResult, runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const set = args.get('set') ?? 'gowalla';
const budget = numberArg(args, 'budget', 120);
const evalImages = numberArg(args, 'eval-images', 2000);
const seed = numberArg(args, 'seed', 1);
const samplers = (args.get('samplers') ?? 'uniform,dns,warp,adaptive-async').split(',').filter((x) => x !== '');
const peers = (args.get('peers') ?? 'lightfm-warp,lightfm-bpr,implicit-als,implicit-bpr').split(',').filter((x) => x !== '');
/** our evaluation moments (seconds of training): the peers are evaluated at their first epoch past each */
const checkpoints = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1].map((f) => f * budget);

function load(): { train: LabeledImage[]; test: LabeledImage[] } {
  if (set === 'gowalla' || set === 'gowalla-t') {
    const transpose = set === 'gowalla-t';
    return { train: readGowalla('train', { transpose }), test: readGowalla('valid', { transpose }) };
  }
  const all = set === 'mirflickr-tags' ? readMirflickrTags() : set === 'delicious' ? readDelicious() : null;
  if (all === null) throw new Error(`--set must be gowalla, gowalla-t, mirflickr-tags or delicious, got ${set}`);
  return holdOutShare(all, 0.2, new Rng(seed));
}

const { train, test } = load();
const defaults = imageLabelsSettings.defaults;
const settings: Record<string, Setting> = {
  uniform: { sampler: 'uniform', optimizer: defaults.optimizer, labelBias: defaults.labelBias, lr: defaults.lr, reg: defaults.reg },
  dns: { sampler: 'uniform', candidates: 4, optimizer: defaults.optimizer, labelBias: defaults.labelBias, lr: defaults.lr, reg: defaults.reg },
  warp: { sampler: 'warp', maxSampled: defaults.maxSampled, optimizer: defaults.optimizer, labelBias: defaults.labelBias, lr: defaults.lr, reg: defaults.reg },
  'adaptive-async': {
    sampler: 'adaptive',
    asyncRefresh: true,
    lambdaFraction: defaults.lambdaFraction,
    optimizer: defaults.optimizer,
    labelBias: defaults.labelBias,
    lr: defaults.lr,
    reg: defaults.reg,
  },
};
// a fixed sample of the held-out images, the same for every contender
const sample = [...test].sort((a, b) => (a.id < b.id ? -1 : 1));
new Rng(seed ^ 0x5ca1e).shuffle(sample);
const evalSet = sample.slice(0, evalImages);
const trainLabels = new Map(train.map((i) => [i.id, i.labels]));
const extraLabels = [...new Set(test.flatMap((i) => i.labels))];
process.stderr.write(
  `[scale-probe] ${set}: ${train.length} images, ${new Set(train.flatMap((i) => i.labels)).size} labels trained, ${train.reduce((n, i) => n + i.labels.length, 0)} pairs; evaluating ${evalSet.length} images\n`,
);

interface Point {
  seconds: number;
  steps: number;
  recall20: number;
  ndcg20: number;
  p5: number;
  map: number;
  evalSeconds: number;
}

async function run(name: string) {
  const s = settings[name];
  if (s === undefined) throw new Error(`unknown sampler ${name} (uniform, dns, warp, adaptive-async)`);
  const fitter = await ImageLabelFitter.create(train, extraLabels, {
    config: imageLabelConfig({ ...defaults, optimizer: s.optimizer, labelBias: s.labelBias, reg: s.reg }),
    sampler: samplerSpec(s),
    lr: s.lr,
    engine: 'wasm',
    threads: 1,
    seed,
  });
  const m = fitter.model;
  const cases: RankingCase[] = evalSet
    .filter((i) => m.images.idOf(i.id) >= 0)
    .map((i) => ({
      image: m.images.idOf(i.id),
      trained: Int32Array.from((trainLabels.get(i.id) ?? []).map((l) => m.labels.idOf(l))),
      truth: Int32Array.from(i.labels.map((l) => m.labels.idOf(l)).filter((l) => l >= 0)),
    }));
  const curve: Point[] = [];
  let trained = 0;
  let steps = 0;
  let next = checkpoints[0];
  while (trained < budget) {
    const t0 = performance.now();
    while (trained + (performance.now() - t0) / 1000 < next) {
      await fitter.train(2048);
      steps += 2048;
    }
    trained += (performance.now() - t0) / 1000;
    const biases = Float32Array.from({ length: m.labels.size }, (_, l) => m.bias(l));
    const r = fullRanking(
      {
        dim: m.dim,
        labelCount: m.labels.size,
        labelVectors: m.labelVectors.data,
        labelStride: m.width,
        labelBiases: biases,
        imageVector: (i) => m.imageVectors.data.subarray(i * m.width, i * m.width + m.dim),
        scorer: fitter.blockScorer(),
      },
      cases,
    );
    curve.push({ seconds: trained, steps, recall20: r.recall20, ndcg20: r.ndcg20, p5: r.p5, map: r.map, evalSeconds: r.seconds });
    process.stderr.write(
      `[scale-probe] ${name} ${trained.toFixed(1)} s: Recall@20 ${r.recall20.toFixed(4)} NDCG@20 ${r.ndcg20.toFixed(4)} (eval ${r.seconds.toFixed(1)} s)\n`,
    );
    next = checkpoints.find((c) => c > trained + 1e-6) ?? budget;
  }
  const counters = fitter.counters();
  await fitter.close();
  return {
    setting: s,
    usPerStep: (trained * 1e6) / steps,
    steps,
    curve,
    counters,
    best: { recall20: Math.max(...curve.map((c) => c.recall20)), ndcg20: Math.max(...curve.map((c) => c.ndcg20)) },
  };
}

/** Each peer's library, loss and default settings (as its documentation gives them). */
const PEER_DEFAULTS: Record<string, { library: 'lightfm' | 'implicit'; loss: string; setting: Record<string, number> }> = {
  'lightfm-warp': { library: 'lightfm', loss: 'warp', setting: { learning_rate: 0.05, max_sampled: 10 } },
  'lightfm-bpr': { library: 'lightfm', loss: 'bpr', setting: { learning_rate: 0.05 } },
  'implicit-als': { library: 'implicit', loss: 'als', setting: { regularization: 0.01, alpha: 1 } },
  'implicit-bpr': { library: 'implicit', loss: 'bpr', setting: { learning_rate: 0.01, regularization: 0.01 } },
};

/** A peer in its own Python process, one thread, on the same pairs and evaluation images. */
function peer(name: string): Record<string, unknown> {
  const p = PEER_DEFAULTS[name];
  if (p === undefined) throw new Error(`unknown peer ${name} (${Object.keys(PEER_DEFAULTS).join(', ')})`);
  const python = pythonVenv('lightfm-venv', ['rectools-lightfm==1.17.3', 'implicit==0.7.3', 'threadpoolctl']);
  if (typeof python !== 'string') return { error: python.error };
  const dir = mkdtempSync(join(tmpdir(), 'freshet-scale-probe-'));
  const lines = (images: readonly LabeledImage[]): string => images.map((i) => `${i.id}\t${i.labels.join(' ')}`).join('\n') + '\n';
  writeFileSync(join(dir, 'train.tsv'), lines(train));
  writeFileSync(join(dir, 'test.tsv'), lines(evalSet));
  const spec = {
    train: join(dir, 'train.tsv'),
    test: join(dir, 'test.tsv'),
    library: p.library,
    loss: p.loss,
    dim: defaults.dim,
    seed,
    checkpoints,
    setting: p.setting,
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  const script = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'python', 'scale_probe_peer.py');
  const r = spawnSync(python, [script, join(dir, 'spec.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return { error: `${name} exited ${r.status}` };
  return { setting: { ...p.setting, dim: defaults.dim, threads: 1 }, ...(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>) };
}

const results: Record<string, Awaited<ReturnType<typeof run>>> = {};
for (const name of samplers) results[name] = await run(name);
const peerResults: Record<string, Record<string, unknown>> = {};
for (const name of peers) peerResults[name] = peer(name);
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
