import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@freshet/runtime';
import { STREAMS } from '../streams/index.js';
import { CheckpointError } from './errors.js';
import { checkSettings, type SavedSettings } from './settings-check.js';
import { trainerSettings } from './settings.js';

function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('settings-check', { destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  return { logger, lines };
}

const settings = (images: Record<string, number | string | boolean> = {}, trainer: Partial<ReturnType<typeof trainerSettings.with>> = {}): SavedSettings => ({
  trainer: trainerSettings.with({ checkpointDir: '/ck', ...trainer }),
  streams: Object.fromEntries(STREAMS.map((s) => [s.name, s.settings.with(s.name === 'image-labels' ? images : {})])),
});

describe('a checkpoint made with other settings', () => {
  it('is restored when only settings the model shape does not depend on changed, naming each one', () => {
    const { logger, lines } = capture();
    checkSettings(settings({ lr: 0.02 }, { threads: 2 }), settings({ lr: 0.05 }, { threads: 8 }), STREAMS, '/ck/trainer.ckpt', logger);
    const log = lines.join('');
    expect(log).toContain('image-labels lr 0.02 -> 0.05');
    expect(log).toContain('trainer threads 2 -> 8');
  });

  it('is refused when the dimension or the bias lane changed, with every difference named and what to do', () => {
    const { logger } = capture();
    let thrown: unknown = null;
    try {
      checkSettings(settings({ dim: 32, labelBias: true, lr: 0.02 }), settings({ dim: 16, labelBias: false, lr: 0.05 }), STREAMS, '/ck/trainer.ckpt', logger);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CheckpointError);
    const err = thrown as CheckpointError;
    expect(err.code).toBe('SETTINGS_MISMATCH');
    expect(err.message).toMatch(/image-labels dim, image-labels labelBias/);
    expect(err.message).toContain('image-labels lr 0.02 -> 0.05');
    expect(err.message).toContain('freshet reset');
  });

  it('says nothing when nothing changed, and a checkpoint without saved settings is only shape-checked', () => {
    const { logger, lines } = capture();
    checkSettings(settings(), settings(), STREAMS, '/ck/trainer.ckpt', logger);
    expect(lines).toHaveLength(0);
    checkSettings(undefined, settings(), STREAMS, '/ck/trainer.ckpt', logger);
    expect(lines.join('')).toContain('predates saved settings');
  });
});
