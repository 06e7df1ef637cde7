import { AUTO_DNS_LABELS, AUTO_SAMPLER_LABELS as AUTO_LABELS } from '@freshet/kernels';
import type { Setting } from './convergence-run.js';
import type { PeerName, PeerSetting } from './peers.js';

const INF = Number.POSITIVE_INFINITY;

/** Our contenders: a base setting, and the knob each tunes beside the learning rate (5 values). */
export interface Contender {
  base: Omit<Setting, 'lr'>;
  lrs: number[];
  knob: { name: 'reg' | 'maxSampled' | 'lambdaFraction' | 'candidates'; values: number[] };
  about: string;
}

/** Every one of our contenders with its 20 settings (4 learning rates x 5 values of its knob). */
export function ourContenders(g: { lrGrid: number[]; sgdLrGrid: number[]; reg: number }): Record<string, Contender> {
  const { lrGrid, sgdLrGrid, reg } = g;
  const adagrad = { optimizer: 'adagrad', labelBias: true, reg } as const;
  return {
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
}

/**
 * What we ship as the default (the CLI's and the trainer's `auto` sampler), as the contender that
 * stands for it: uniform below AUTO_DNS_LABELS labels, DNS from there (tuned here over its
 * candidates; auto keeps 4), WARP from AUTO_LABELS. Its ratios are the headline.
 */
export const defaultFor = (labelCount: number): string => (labelCount >= AUTO_LABELS ? 'warp' : labelCount >= AUTO_DNS_LABELS ? 'dns' : 'uniform');

export function settingsOf(c: Contender): Setting[] {
  return c.lrs.flatMap((lr) => c.knob.values.map((value) => ({ ...c.base, lr, [c.knob.name]: value }) as Setting));
}

/** Each peer's 20 settings: a learning-rate (or regularisation) grid of 4 times 5 values of its own knob, as ours. */
export function peerSettings(lrGrid: number[], labels: number): Record<PeerName, PeerSetting[]> {
  return {
    'lightfm-warp': lrGrid.flatMap((lr) => [3, 10, 30, 100, labels - 1].map((m) => ({ learning_rate: lr, max_sampled: m }))),
    'lightfm-bpr': lrGrid.flatMap((lr) => [0, 1e-6, 1e-5, 1e-4, 1e-3].map((alpha) => ({ learning_rate: lr, alpha }))),
    'implicit-bpr': lrGrid.flatMap((lr) => [0, 0.001, 0.003, 0.01, 0.03].map((regularization) => ({ learning_rate: lr, regularization }))),
    'implicit-als': [0.01, 0.03, 0.1, 0.3].flatMap((regularization) => [1, 3, 10, 30, 100].map((alpha) => ({ regularization, alpha }))),
  };
}
