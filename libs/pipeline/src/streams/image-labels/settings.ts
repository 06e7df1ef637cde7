import { streamingImageLabelSettings } from '@freshet/kernels';
import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';

/** What the stream's learner adds to the model's settings: replay and the caps of a never-ending id space. */
const imageLabelStreamSettings = new SettingsTable('image-label stream', {
  replaySteps: setting.number({
    default: 20,
    option: 'replay-steps',
    integer: true,
    min: 0,
    help: 'SGD steps on remembered pairs per image event (one pass over a stream learns little)',
  }),
  replayCapacity: setting.number({
    default: 1_000_000,
    option: 'replay-capacity',
    integer: true,
    min: 1,
    help: 'pairs remembered for replay (a ring: the oldest go first)',
  }),
  imageCap: setting.number({
    default: 2_000_000,
    option: 'image-cap',
    integer: true,
    min: 1,
    help: 'most images with a vector (reserved address space: the model must fit 4 GiB)',
  }),
  labelCap: setting.number({ default: 200_000, option: 'label-cap', integer: true, min: 2, help: 'most labels with a vector' }),
  atImageCap: setting.choice(['evict', 'refuse'] as const, {
    default: 'evict',
    option: 'at-image-cap',
    help: 'when every image row is taken: evict the least recently seen images to make room (deleted downstream), or refuse new images',
  }),
  evictBatch: setting.number({
    default: 0.01,
    option: 'evict-batch',
    above: 0,
    max: 1,
    help: 'share of the image cap evicted at once when it is reached (one pass over the rows and the replay memory per batch)',
  }),
});

/**
 * The image-labels learner's settings: the image-label model's streaming preset (flags
 * `--image-<name>`, owned by @freshet/kernels) and the stream's own.
 */
export const imageLabelsSettings = SettingsTable.merge('image-labels', prefixed(), imageLabelStreamSettings);

export type ImageLabelsSettings = SettingsOf<(typeof imageLabelsSettings)['specs']>;

/** The model's flags carry the stream's prefix: --image-dim, --image-sampler, ... */
function prefixed(): typeof streamingImageLabelSettings {
  return streamingImageLabelSettings.renamed((option) => `image-${option}`);
}
