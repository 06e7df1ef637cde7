/**
 * What the benchmarks at the papers' label-space scale share (bench:scale-probe, bench:scale):
 * the four data sets and their splits, the fixed evaluation sample, our contender trained for a
 * time budget with full-ranking metrics on a time grid, and a Python peer run the same way.
 * Evaluation is timed apart and excluded from every training clock.
 */
import { Rng, fullRanking, holdOutShare, type LabeledImage, type RankingCase } from '@freshet/core';
import { readDelicious, readGowalla, readMirflickrTags } from '@freshet/datasets';
import { ImageLabelFitter, imageLabelConfig, type VseCounters } from '@freshet/kernels';
import { imageLabelsSettings } from '@freshet/pipeline';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonVenv } from './peers.js';
import { samplerSpec, type Setting } from './convergence-run.js';

export const SCALE_SETS = ['gowalla', 'gowalla-t', 'mirflickr-tags', 'delicious'] as const;
export type ScaleSet = (typeof SCALE_SETS)[number];

export interface Split {
  train: LabeledImage[];
  test: LabeledImage[];
}

/**
 * A set's split for a phase. Gowalla (users x locations, `gowalla-t` the transpose): LightGCN's
 * train, tuned on valid, reported on test. The tag sets: a seeded 80/20 split of each image's
 * labels for the report, and the same split of the training share for tuning (the test share
 * never seen while tuning).
 */
export function loadSplit(set: string, phase: 'tune' | 'test'): Split {
  if (set === 'gowalla' || set === 'gowalla-t') {
    const transpose = set === 'gowalla-t';
    return { train: readGowalla('train', { transpose }), test: readGowalla(phase === 'tune' ? 'valid' : 'test', { transpose }) };
  }
  const all = set === 'mirflickr-tags' ? readMirflickrTags() : set === 'delicious' ? readDelicious() : null;
  if (all === null) throw new Error(`the set must be one of ${SCALE_SETS.join(', ')}, got ${set}`);
  // the report's split does not depend on the run's seed: every contender and seed sees the same one
  const report = holdOutShare(all, 0.2, new Rng(0x5e7));
  return phase === 'test' ? report : holdOutShare(report.train, 0.2, new Rng(0x7e57));
}

/** A fixed sample of the held-out images, the same for every contender and seed. */
export function evaluationSample(test: readonly LabeledImage[], count: number): LabeledImage[] {
  const sample = [...test].sort((a, b) => (a.id < b.id ? -1 : 1));
  new Rng(0x5ca1e).shuffle(sample);
  return sample.slice(0, count);
}

export interface GridPoint {
  seconds: number;
  steps: number;
  recall20: number;
  ndcg20: number;
  p5: number;
  map: number;
  evalSeconds: number;
}

export interface RunOptions {
  dim: number;
  seed: number;
  /** training seconds at which to evaluate (ascending); the run ends at the last */
  grid: readonly number[];
  log?: (line: string) => void;
}

export interface OurRun {
  setting: Setting;
  usPerStep: number;
  steps: number;
  curve: GridPoint[];
  counters: VseCounters;
  falseNegativeShare: number | null;
}

/** Our learner (the WebAssembly kernel, one thread) on `train`, evaluated on `evalSet` at each grid time. */
export async function runOurs(name: string, setting: Setting, split: Split, evalSet: readonly LabeledImage[], o: RunOptions): Promise<OurRun> {
  const defaults = imageLabelsSettings.defaults;
  const extraLabels = [...new Set(split.test.flatMap((i) => i.labels))];
  const fitter = await ImageLabelFitter.create(split.train, extraLabels, {
    config: imageLabelConfig({ ...defaults, dim: o.dim, optimizer: setting.optimizer, labelBias: setting.labelBias, reg: setting.reg }),
    sampler: samplerSpec(setting),
    lr: setting.lr,
    engine: 'wasm',
    threads: 1,
    seed: o.seed,
  });
  const m = fitter.model;
  const trainLabels = new Map(split.train.map((i) => [i.id, i.labels]));
  const cases: RankingCase[] = evalSet
    .filter((i) => m.images.idOf(i.id) >= 0)
    .map((i) => ({
      image: m.images.idOf(i.id),
      trained: Int32Array.from((trainLabels.get(i.id) ?? []).map((l) => m.labels.idOf(l))),
      truth: Int32Array.from(i.labels.map((l) => m.labels.idOf(l)).filter((l) => l >= 0)),
    }));
  const scorer = fitter.blockScorer();
  const curve: GridPoint[] = [];
  let trained = 0;
  let steps = 0;
  for (const next of o.grid) {
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
        scorer,
      },
      cases,
    );
    curve.push({ seconds: trained, steps, recall20: r.recall20, ndcg20: r.ndcg20, p5: r.p5, map: r.map, evalSeconds: r.seconds });
    o.log?.(`${name} ${trained.toFixed(1)} s: Recall@20 ${r.recall20.toFixed(4)} NDCG@20 ${r.ndcg20.toFixed(4)} (eval ${r.seconds.toFixed(1)} s)`);
  }
  const falseNegativeShare = falseNegatives(fitter, cases);
  const counters = fitter.counters();
  await fitter.close();
  return { setting, usPerStep: (trained * 1e6) / Math.max(1, steps), steps, curve, counters, falseNegativeShare };
}

/**
 * The share of the sampler's negatives, drawn from the trained model for the first 1,000
 * evaluation images (20 each, against one of their training labels), that are held-out labels
 * of the image: the false negatives an informative sampler risks pushing down.
 */
function falseNegatives(fitter: ImageLabelFitter, cases: readonly RankingCase[]): number | null {
  const kernel = fitter.kernel;
  if (kernel === null) return null;
  let drawn = 0;
  let held = 0;
  for (const c of cases.slice(0, 1000)) {
    if (c.trained.length === 0 || c.trained[0] < 0) continue;
    const truth = new Set(c.truth);
    for (const id of kernel.sampleNegatives(c.image, c.trained[0], 20)) {
      if (id < 0) continue;
      drawn++;
      if (truth.has(id)) held++;
    }
  }
  return drawn === 0 ? null : held / drawn;
}

/** The Python peers, their library and loss. */
export const SCALE_PEERS = {
  'lightfm-warp': { library: 'lightfm', loss: 'warp' },
  'lightfm-bpr': { library: 'lightfm', loss: 'bpr' },
  'implicit-als': { library: 'implicit', loss: 'als' },
  'implicit-bpr': { library: 'implicit', loss: 'bpr' },
} as const;
export type ScalePeer = keyof typeof SCALE_PEERS;

export interface PeerRunResult {
  setting: Record<string, number>;
  curve: GridPoint[];
  epochs: number;
  secondsPerEpoch: number;
}

/** A peer in its own Python process (bench/python/scale_probe_peer.py): the same pairs, evaluation images, metrics and grid. */
export function runPeer(
  name: string,
  setting: Record<string, number>,
  split: Split,
  evalSet: readonly LabeledImage[],
  o: RunOptions & { threads?: number },
): PeerRunResult {
  const p = SCALE_PEERS[name as ScalePeer];
  if (p === undefined) throw new Error(`unknown peer ${name} (${Object.keys(SCALE_PEERS).join(', ')})`);
  const python = pythonVenv('lightfm-venv', ['rectools-lightfm==1.17.3', 'implicit==0.7.3', 'threadpoolctl']);
  if (typeof python !== 'string') throw new Error(`${name}: ${python.error}`);
  const dir = mkdtempSync(join(tmpdir(), 'freshet-scale-peer-'));
  try {
    const lines = (images: readonly LabeledImage[]): string => images.map((i) => `${i.id}\t${i.labels.join(' ')}`).join('\n') + '\n';
    writeFileSync(join(dir, 'train.tsv'), lines(split.train));
    writeFileSync(join(dir, 'test.tsv'), lines(evalSet));
    const spec = {
      train: join(dir, 'train.tsv'),
      test: join(dir, 'test.tsv'),
      library: p.library,
      loss: p.loss,
      dim: o.dim,
      seed: o.seed,
      checkpoints: o.grid,
      threads: o.threads ?? 1,
      setting,
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
    const script = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'python', 'scale_probe_peer.py');
    const r = spawnSync(python, [script, join(dir, 'spec.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Omit<PeerRunResult, 'setting'>;
    return { setting: { ...setting, dim: o.dim, threads: o.threads ?? 1 }, ...out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first grid time a curve reaches `target` Recall@20, interpolated linearly from the point before; null: never. */
export function timeToTarget(curve: readonly GridPoint[], target: number): number | null {
  for (let k = 0; k < curve.length; k++) {
    const c = curve[k];
    if (c.recall20 < target) continue;
    if (k === 0) return c.seconds;
    const b = curve[k - 1];
    return b.seconds + ((target - b.recall20) / (c.recall20 - b.recall20)) * (c.seconds - b.seconds);
  }
  return null;
}
