import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';
import { ZERO_SHOT_METHODS } from '@freshet/core';
import type { SnapshotSink } from '../sinks/sink.js';
import type { ProcessorWiring } from '../wiring.js';

/** off, or how zero-shot labels are synthesised (core's methods) */
const ZERO_SHOT_CHOICES = ['off', ...ZERO_SHOT_METHODS] as const;

/** The publisher's settings (flags of the publisher service). */
export const publisherSettings = new SettingsTable('publisher', {
  publishEveryMs: setting.number({ default: 30_000, option: 'publish-every-ms', min: 0, help: 'cut a snapshot this often when something changed' }),
  publishEveryUpdates: setting.number({ default: 1_000_000, option: 'publish-every-updates', min: 1, help: '...or after this many changed vectors' }),
  catchUpRecords: setting.number({
    default: 50_000,
    option: 'catch-up-records',
    integer: true,
    min: 0,
    help: 'while more model updates than this wait (after a restart, a trainer resending its rows), versions only every --catch-up-every-ms: writing stale versions would slow the catching up (0: off)',
  }),
  catchUpEveryMs: setting.number({
    default: 15_000,
    option: 'catch-up-every-ms',
    integer: true,
    min: 0,
    help: 'the interval between versions while catching up',
  }),
  chunkBytes: setting.number({
    default: 512 * 1024,
    option: 'chunk-bytes',
    integer: true,
    min: 1024,
    help: 'largest snapshot chunk (keep under the topic max.message.bytes)',
  }),
  maxDeltas: setting.number({
    default: 50,
    option: 'max-deltas',
    integer: true,
    min: 0,
    help: 'delta versions (only the changes since the version before) between two whole versions (0: every version whole)',
  }),
  baseEveryMs: setting.number({
    default: 600_000,
    option: 'whole-every-ms',
    integer: true,
    min: 0,
    help: "a whole version at least this often: the snapshot topic's retention must keep one and its deltas (2x this is safe)",
  }),
  maxDeltaBytes: setting.number({
    default: 2,
    option: 'max-delta-bytes',
    min: 0,
    help: 'a whole version again once the deltas since the last one hold this many times its bytes: a reader loading from scratch reads at most 1 + this many whole versions (at half, a trainer whose checkpoints resend most rows forced a whole version each time)',
  }),
  sinkNames: setting.text({
    default: 'kafka',
    option: 'sinks',
    help: 'where each version goes, comma-separated (kafka: the latest-vector, snapshot and manifests topics; lancedb: upserts into LanceDB tables at --lancedb-uri)',
  }),
  zeroShot: setting.choice(ZERO_SHOT_CHOICES, {
    default: 'off',
    option: 'zero-shot',
    help: 'labels no image has carried, from the vectors of their words (needs --zero-shot-labels and a trainer running both streams)',
    choiceHelp: {
      off: 'only learned labels',
      map: 'a ridge map from word space to label space, fit on the learned labels (measured best: bench:zero-shot)',
      mix: 'a softmax mix of the learned labels nearest in word space (ConSE-style)',
    },
  }),
  zeroShotLabels: setting.text({
    default: '',
    option: 'zero-shot-labels',
    help: 'the label catalogue zero-shot labels come from: a file with one label per line, or a comma-separated list',
  }),
  lancedbUri: setting.text({
    default: './freshet-lancedb',
    option: 'lancedb-uri',
    help: 'the LanceDB database the lancedb sink writes (a folder, or s3://...)',
  }),
});

export type PublisherSettings = SettingsOf<(typeof publisherSettings)['specs']>;

/** Everything a publisher is made with: its wiring and its settings. */
export interface PublisherOptions extends ProcessorWiring, PublisherSettings {
  /** where versions go (default: the `sinks` setting's, from the registry) */
  sinks?: SnapshotSink[];
}
