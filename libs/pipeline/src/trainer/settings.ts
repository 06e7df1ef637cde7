import { availableParallelism } from 'node:os';
import { SettingsTable, setting, type SettingValue, type SettingsOf } from '@freshet/runtime';
import type { UpdateSink } from '../sinks/sink.js';
import type { ProcessorWiring } from '../wiring.js';
import { damagedCheckpointPolicies, staleCheckpointPolicies, updateScopes } from './policies.js';

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
  updatesBetweenCheckpoints: setting.choice(updateScopes, {
    default: 'fresh',
    option: 'updates-between-checkpoints',
    help: 'between checkpoints publish the rows new events touched (fresh; the rows only replay moved wait for the next checkpoint) or every changed row (all)',
  }),
  replayedRowsEvery: setting.number({
    default: 6,
    option: 'replayed-rows-every',
    integer: true,
    min: 1,
    help: 'publish the rows only replay moved with every Nth checkpoint (1: each one): an old image drifts slowly, and at a million images replay moves most image rows between two checkpoints',
  }),
  onStaleCheckpoint: setting.choice(staleCheckpointPolicies, {
    default: 'fail',
    option: 'on-stale-checkpoint',
    help: "a checkpoint whose offsets are not this log's (wiped broker, recreated topic, other cluster): fail with what to do; reset-to-checkpoint keeps the model and reads the log from its start; reset-to-earliest drops the model",
  }),
  onDamagedCheckpoint: setting.choice(damagedCheckpointPolicies, {
    default: 'previous',
    option: 'on-damaged-checkpoint',
    help: "a checkpoint that fails its checksums or holds non-finite numbers is never restored: previous restores the newest intact previous checkpoint (work since then is redone); fail stops with the damaged part named; reset starts the model empty from the log's start",
  }),
  keepCheckpoints: setting.number({
    default: 2,
    option: 'keep-checkpoints',
    integer: true,
    min: 1,
    max: 100,
    help: 'checkpoints kept: the current one and the ones before it (a damaged one is replaced by the newest intact one)',
  }),
  checkpointFullEvery: setting.number({
    default: 10,
    option: 'checkpoint-full-every',
    integer: true,
    min: 0,
    max: 1000,
    help: 'a full checkpoint after this many increments (each increment holds the rows changed since the checkpoint before; also full once the increments outweigh the last full one); 0: every checkpoint is full',
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

/** Everything a trainer is made with: its wiring, its settings, and each stream's. */
export interface TrainerOptions extends ProcessorWiring, TrainerSettings {
  /** each stream's learner settings that differ from its defaults, by stream name */
  streams?: Readonly<Record<string, Readonly<Record<string, SettingValue>>>>;
  /** where changed rows go (default: the model-updates topic) */
  updates?: UpdateSink;
  /** another instance took over (rebalance, or the checkpoint fence): the service exits to restart as a standby */
  onOwnershipLost?: () => void;
}
