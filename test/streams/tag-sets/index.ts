// A stream that exists only for the tests: what adding a stream takes, in one folder beside its
// schema. Tags given to an item are trained as words that occur together, by the skip-gram
// learner the text-windows stream uses (no new math, so no new kernel).
import { streamingSkipGramSettings } from '@freshet/kernels';
import {
  checkId,
  checkTime,
  normaliseLabel,
  reject,
  TextWindowsLearner,
  type Adjustment,
  type IngestLimits,
  type Normalised,
  type StreamDefinition,
} from '@freshet/pipeline';
import { SettingsTable, setting } from '@freshet/runtime';

export interface TagSetEvent {
  itemId: string;
  tags: string[];
  eventTime: number;
}

const limits = new SettingsTable('tag-set events', {
  maxTags: setting.number({ default: 50, option: 'max-tags', integer: true, min: 1, help: 'most tags per item' }),
});

const settings = SettingsTable.merge(
  'tag-sets',
  streamingSkipGramSettings.renamed((option) => `tag-${option}`),
  new SettingsTable('tag-set stream', {
    lr: setting.number({ default: 0.025, option: 'tag-lr', above: 0, help: 'initial learning rate' }),
    floorLr: setting.number({ default: 0.005, option: 'tag-floor-lr', above: 0, help: 'the rate the schedule settles at' }),
    halfLifeSteps: setting.number({ default: 1_000_000, min: 1, help: 'tags after which the rate is halfway to its floor' }),
    vocabCap: setting.number({ default: 100_000, option: 'tag-cap', integer: true, min: 1, help: 'most tags with a vector' }),
  }),
);

function normalise(e: TagSetEvent, all: IngestLimits, now: number): Normalised<TagSetEvent> {
  const adjustments: Adjustment[] = [];
  const idProblem = checkId(e.itemId, all, 'itemId');
  if (idProblem) return { ok: false, rejection: idProblem };
  const time = checkTime(e.eventTime, all, now, adjustments);
  if ('code' in time) return { ok: false, rejection: time };
  if (e.tags.length > limits.pick(all).maxTags) return reject('TOO_MANY_LABELS', `${e.tags.length} tags, the limit is ${limits.pick(all).maxTags}`);
  const tags = e.tags.map(normaliseLabel).filter((t) => t !== '');
  if (tags.length === 0) return reject('EMPTY_LABELS', 'no tags left after normalisation');
  return { ok: true, value: { itemId: e.itemId.trim(), tags, eventTime: time.time }, adjustments };
}

export const tagSetsStream: StreamDefinition<TagSetEvent, (typeof limits)['specs'], (typeof settings)['specs']> = {
  name: 'tag-sets',
  summary: 'tag-set events: the tags one item was given',
  schema: 'tag-set-event',
  kinds: ['WORD'],
  key: (e) => e.itemId,
  limits,
  normalise,
  settings,
  createLearner: (ctx) => new TextWindowsLearner(ctx, (e) => e.tags),
};
