import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';
import { SGNS_SAMPLERS } from '../abi.js';

/**
 * The skip-gram model's settings, owned here beside the kernel that uses them: word2vec's and
 * gensim's defaults for offline training (`freshet train-words`), and the streaming preset the
 * trainer service starts from (its flags are `--word-<name>`).
 */
export const skipGramSettings = new SettingsTable('skip-gram model', {
  dim: setting.number({ default: 100, option: 'dim', integer: true, min: 1, max: 4096, shape: true, help: 'word vector dimension' }),
  window: setting.number({ default: 5, option: 'window', integer: true, min: 1, max: 100, help: 'largest window (shrunk at random per word)' }),
  negatives: setting.number({ default: 5, option: 'negatives', integer: true, min: 1, max: 100, help: 'negatives per pair' }),
  sample: setting.number({ default: 1e-3, option: 'sample', min: 0, help: 'frequent-word subsampling threshold (0: off)' }),
  sampler: setting.choice(SGNS_SAMPLERS.names, {
    default: 'popularity',
    option: 'sampler',
    help: 'negative sampler for words',
    choiceHelp: SGNS_SAMPLERS.help,
  }),
  alpha: setting.number({ default: 0.75, option: 'alpha', min: 0, help: 'popularity: exponent on word counts' }),
  lambdaFraction: setting.number({ default: 0.01, option: 'lambda', above: 0, help: 'adaptive: λ as a fraction of the vocabulary' }),
  mixShare: setting.number({ default: 0.1, option: 'mix-share', min: 0, max: 1, help: 'adaptive: share of popularity draws mixed in' }),
});

export type SkipGramSettings = SettingsOf<(typeof skipGramSettings)['specs']>;

/** A stream's model must fit a vocabulary that keeps growing: fewer dimensions than word2vec's 100. */
export const streamingSkipGramSettings = skipGramSettings.preset('streaming', { dim: 64 });
