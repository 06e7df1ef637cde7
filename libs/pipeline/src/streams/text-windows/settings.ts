import { streamingSkipGramSettings } from '@freshet/kernels';
import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';

/** What the stream's learner adds to the model's settings: a schedule that never ends, and the vocabulary's cap. */
const textWindowStreamSettings = new SettingsTable('text-window stream', {
  lr: setting.number({ default: 0.025, option: 'word-lr', above: 0, help: 'initial skip-gram learning rate' }),
  floorLr: setting.number({
    default: 0.005,
    option: 'word-floor-lr',
    above: 0,
    help: 'the rate the stream schedule settles at (it never decays to zero: streams do not end)',
  }),
  halfLifeSteps: setting.number({ default: 1_000_000, min: 1, help: 'tokens after which the rate is halfway from its start to its floor' }),
  vocabCap: setting.number({ default: 500_000, option: 'vocab-cap', integer: true, min: 1, help: 'most words with a vector' }),
});

/**
 * The text-windows learner's settings: the skip-gram model's streaming preset (flags
 * `--word-<name>`, owned by @freshet/kernels; --window, --negatives and --sample still accepted)
 * and the stream's own.
 */
export const textWindowsSettings = SettingsTable.merge(
  'text-windows',
  streamingSkipGramSettings.renamed((option) => `word-${option}`).withAliases({ window: ['window'], negatives: ['negatives'], sample: ['sample'] }),
  textWindowStreamSettings,
);

export type TextWindowsSettings = SettingsOf<(typeof textWindowsSettings)['specs']>;
