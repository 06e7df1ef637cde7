import type { SettingValue } from '@freshet/runtime';
import type { Codecs } from '../catalogue.js';
import type { ThreadedLearner } from './learner.js';
import type { TrainerOptions } from './trainer.js';

/** One learner per stream of the catalogue, with its settings resolved over the stream's defaults. */
export function createLearners(opts: TrainerOptions, codecs: Codecs): { learners: ThreadedLearner[]; settings: Record<string, Record<string, SettingValue>> } {
  const t = opts.topics;
  const settings: Record<string, Record<string, SettingValue>> = {};
  const learners = t.streams.map((stream, i) => {
    const own = stream.settings.with(opts.streams?.[stream.name] ?? {});
    settings[stream.name] = own;
    // one seed per stream, in registry order (image-labels the trainer's seed, text-windows the next)
    return stream.createLearner({ stream: stream.name, topic: t.train(stream), codec: codecs.train(stream), settings: own, metrics: opts.metrics, logger: opts.logger, threads: opts.threads, seed: opts.seed + i });
  });
  return { learners, settings };
}
