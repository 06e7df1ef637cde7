import { availableParallelism } from 'node:os';
import { SettingsTable, setting, type SettingsOf } from '@freshet/runtime';
import { staleCheckpointPolicies } from './restore.js';

/** The trainer's own settings (flags of the trainer service); each stream's learner has its table too. */
export const trainerSettings = new SettingsTable('trainer', {
  checkpointDir: setting.text({ default: './freshet-checkpoints', option: 'checkpoint-dir', help: 'where checkpoints (model + offsets) are written' }),
  checkpointEveryMs: setting.number({
    default: 10_000,
    option: 'checkpoint-every-ms',
    integer: true,
    min: 100,
    help: 'checkpoint (model + offsets) this often',
  }),
  updatesEveryMs: setting.number({
    default: 1000,
    option: 'updates-every-ms',
    integer: true,
    min: 0,
    help: 'publish changed rows to the model-updates topic this often, between checkpoints (0: only after each checkpoint)',
  }),
  onStaleCheckpoint: setting.choice(staleCheckpointPolicies, {
    default: 'fail',
    option: 'on-stale-checkpoint',
    help: "a checkpoint whose offsets are not this log's (wiped broker, recreated topic, other cluster): fail with what to do; reset-to-checkpoint keeps the model and reads the log from its start; reset-to-earliest drops the model",
  }),
  threads: setting.number({
    default: availableParallelism(),
    option: 'threads',
    integer: true,
    min: 1,
    max: 64,
    help: 'SGD threads (Hogwild over shared memory; the main thread keeps Kafka, checkpoints and publishing)',
  }),
  seed: setting.number({ default: 1, option: 'seed', integer: true, help: 'random seed' }),
});

export type TrainerSettings = SettingsOf<(typeof trainerSettings)['specs']>;
