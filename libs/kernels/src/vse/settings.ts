import { defaultImageLabelConfig, type ImageLabelConfig } from '@freshet/core';
import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';
import { VSE_SAMPLERS } from '../abi.js';
import { AUTO_CANDIDATES, AUTO_DNS_LABELS, AUTO_SAMPLER_LABELS, type VseSamplerSpec } from './spec.js';

/**
 * The image-label model's settings, owned here beside the kernel that uses them: the offline
 * defaults (`freshet train-images`, the benchmarks), and the streaming preset the trainer
 * service starts from. Each flag is named without a prefix; the trainer service shows them as
 * `--image-<name>`.
 */
export const imageLabelSettings = new SettingsTable('image-label model', {
  dim: setting.number({ default: 100, option: 'dim', integer: true, min: 1, max: 4096, shape: true, help: 'vector dimension' }),
  lr: setting.number({ default: 0.05, option: 'lr', above: 0, help: 'learning rate' }),
  reg: setting.number({ default: 0.003, option: 'reg', min: 0, help: 'L2 regularisation of the rows a step touches' }),
  optimizer: setting.choice(['adagrad', 'sgd'], {
    default: 'adagrad',
    option: 'optimizer',
    help: 'per-coordinate AdaGrad (as LightFM) or plain SGD at a constant rate',
  }),
  labelBias: setting.flag({ default: true, option: 'label-bias', shape: true, help: 'learn a bias per label (score = image · label + bias)' }),
  sampler: setting.choice(VSE_SAMPLERS.names, { default: 'auto', option: 'sampler', help: 'negative sampler for labels', choiceHelp: VSE_SAMPLERS.help }),
  autoLabels: setting.number({
    default: AUTO_SAMPLER_LABELS,
    option: 'auto-labels',
    integer: true,
    min: 2,
    help: 'auto: the label count from which WARP is drawn',
  }),
  autoDnsLabels: setting.number({
    default: AUTO_DNS_LABELS,
    option: 'auto-dns-labels',
    integer: true,
    min: 2,
    help: 'auto: the label count from which the hardest of auto-candidates uniform draws is kept',
  }),
  autoCandidates: setting.number({
    default: AUTO_CANDIDATES,
    option: 'auto-candidates',
    integer: true,
    min: 1,
    help: 'auto: uniform candidates scored per draw from auto-dns-labels',
  }),
  candidates: setting.number({
    default: 1,
    option: 'candidates',
    integer: true,
    min: 1,
    help: 'uniform/popularity/adaptive: candidates scored per draw, the hardest kept (uniform: dynamic negative sampling); adversarial: candidates weighed (at most 64)',
  }),
  maxSampled: setting.number({ default: 30, option: 'max-sampled', integer: true, min: 1, help: 'WARP (and auto): most candidates scored per step' }),
  lambdaFraction: setting.number({ default: 0.3, option: 'lambda', above: 0, help: 'adaptive: λ as a fraction of the labels' }),
  mixShare: setting.number({ default: 0, option: 'mix-share', min: 0, max: 1, help: 'adaptive: share of uniform draws mixed in' }),
  maxRetries: setting.number({ default: 10, integer: true, min: 0, help: 'adaptive: redraws after positives before the uniform fallback' }),
  temperature: setting.number({
    default: 1,
    option: 'temperature',
    min: 0,
    help: "adversarial: inverse temperature of the candidates' softmax weights (0: every candidate alike)",
  }),
});

export type ImageLabelSettings = SettingsOf<(typeof imageLabelSettings)['specs']>;

/**
 * What a stream needs that a fixed data set does not: a smaller dimension for a model that must
 * fit millions of ids, a lower rate because every event is also replayed (`replay-steps`), and a
 * uniform share in the rank-table draws so labels the tables have not ranked yet are drawn.
 */
export const streamingImageLabelSettings = imageLabelSettings.preset('streaming', { dim: 64, lr: 0.02, mixShare: 0.05 });

/** The model configuration for settings and caps (offline the fitter sizes the caps to the data). */
export function imageLabelConfig(s: ImageLabelSettings, caps: Partial<Pick<ImageLabelConfig, 'imageCap' | 'labelCap'>> = {}): ImageLabelConfig {
  return { ...defaultImageLabelConfig, dim: s.dim, reg: s.reg, optimizer: s.optimizer, labelBias: s.labelBias, ...caps };
}

/** The kernel's sampler specification for settings. */
export function vseSamplerSpec(s: ImageLabelSettings, extra: Partial<VseSamplerSpec> = {}): VseSamplerSpec {
  return {
    kind: s.sampler,
    autoLabels: s.autoLabels,
    autoDnsLabels: s.autoDnsLabels,
    autoCandidates: s.autoCandidates,
    candidates: s.candidates,
    maxSampled: s.maxSampled,
    lambdaFraction: s.lambdaFraction,
    mixShare: s.mixShare,
    maxRetries: s.maxRetries,
    temperature: s.temperature,
    ...extra,
  };
}
