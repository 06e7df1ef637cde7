import type { LabeledImage } from '@freshet/core';
import type { FeedSource } from '../stream.js';
import type { StreamDefinition } from '../stream.js';
import { ImageLabelsLearner } from './learner.js';
import { imageLabelLimits, normaliseImageLabel, type ImageLabelEvent } from './normalise.js';
import { imageLabelsSettings } from './settings.js';

export { ImageLabelsLearner } from './learner.js';
export { imageLabelLimits, normaliseImageLabel, normaliseLabel, type ImageLabelEvent } from './normalise.js';
export { imageLabelsSettings, type ImageLabelsSettings } from './settings.js';

/** Images known only by an id, and their labels: the visual-semantic embedding's stream. */
export const imageLabelsStream: StreamDefinition<ImageLabelEvent, (typeof imageLabelLimits)['specs'], (typeof imageLabelsSettings)['specs']> = {
  name: 'image-labels',
  summary: 'image-label events: an image id and its labels',
  schema: 'image-label-event',
  kinds: ['LABEL', 'IMAGE'],
  key: (e) => e.imageId,
  limits: imageLabelLimits,
  normalise: normaliseImageLabel,
  settings: imageLabelsSettings,
  createLearner: (ctx) => new ImageLabelsLearner(ctx),
};

/** Labelled images as raw events for the feeder (event time: when each is sent). */
export function imageLabelSource(images: readonly LabeledImage[], source = 'freshet-feeder'): FeedSource<ImageLabelEvent> {
  return {
    stream: imageLabelsStream.name,
    count: images.length,
    event: (i, now) => ({ imageId: images[i].id, labels: images[i].labels, eventTime: now, weight: null, source }),
  };
}
