import type { Logger, SettingValue } from '@freshet/runtime';
import type { AnyStream } from '../streams/stream.js';
import { CheckpointError } from './errors.js';
import { trainerSettings, type TrainerSettings } from './settings.js';

/** Every setting a checkpoint is made with: the trainer's, and each stream's learner's (fastText saves its Args so). */
export interface SavedSettings {
  trainer: TrainerSettings;
  streams: Readonly<Record<string, Readonly<Record<string, SettingValue>>>>;
}

/** The same, as read back from a checkpoint's header (checked field by field when compared). */
export interface SettingsOnDisk {
  trainer: Readonly<Record<string, unknown>>;
  streams: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Compares the settings a checkpoint was made with against the running trainer's and names every
 * difference: a learning rate or a thread count may change between runs (logged), a dimension or
 * a bias lane may not (the model would not fit: the restore stops, saying what to do).
 */
export function checkSettings(saved: SettingsOnDisk | undefined, current: SavedSettings, streams: readonly AnyStream[], path: string, logger: Logger): void {
  if (saved === undefined) {
    logger.warn({ path }, 'the checkpoint predates saved settings: only its shape is checked');
    return;
  }
  const differences = [
    ...trainerSettings.diff(saved.trainer, current.trainer),
    // a stream the checkpoint does not know starts empty: nothing to compare
    ...streams.flatMap((s) => (saved.streams[s.name] === undefined ? [] : s.settings.diff(saved.streams[s.name], current.streams[s.name] ?? {}))),
  ];
  if (differences.length === 0) return;
  const every = differences.map((d) => `${d.table} ${d.setting} ${JSON.stringify(d.saved)} -> ${JSON.stringify(d.current)}`).join('; ');
  const shape = differences.filter((d) => d.shape);
  if (shape.length > 0) {
    throw new CheckpointError(
      'SETTINGS_MISMATCH',
      `checkpoint ${path} was made with settings the model's shape depends on that differ now (${shape.map((d) => `${d.table} ${d.setting}`).join(', ')}): start the trainer with the checkpoint's settings, or start fresh with \`freshet reset\`. Every difference: ${every}`,
    );
  }
  logger.warn({ path, differences }, `restoring a checkpoint made with other settings: ${every}`);
}
