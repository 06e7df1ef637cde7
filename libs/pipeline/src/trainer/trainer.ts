import type { ImageLabelModel, Optimizer, ScheduleConfig, SkipGramModel } from '@freshet/core';
import type { VseSamplerSpec } from '@freshet/kernels';
import { schemaTexts, type ProcessorWiring } from '../topics.js';
import { ImageLabelLearner } from './image-label-learner.js';
import type { StaleCheckpointPolicy } from './restore.js';
import { TrainerShell } from './shell.js';
import { SkipGramLearner } from './skip-gram-learner.js';

/** The trainer's settings: the shell's, and each learner's. */
export interface TrainerOptions extends ProcessorWiring {
  checkpointDir: string;
  checkpointEveryMs: number;
  /** publish the rows changed since the last publish this often between checkpoints (0: only after each checkpoint) */
  updatesEveryMs: number;
  seed: number;
  /** SGD threads (Hogwild over the kernels' shared memory; the main thread keeps Kafka) */
  threads: number;
  onStaleCheckpoint: StaleCheckpointPolicy;
  images: { dim: number; lr: number; reg: number; optimizer: Optimizer; labelBias: boolean; sampler: VseSamplerSpec; replaySteps: number; replayCapacity: number; imageCap: number; labelCap: number };
  words: { dim: number; window: number; negatives: number; sample: number; schedule: ScheduleConfig; sampler: 'popularity' | 'adaptive'; alpha: number; lambdaFraction: number; mixShare: number; vocabCap: number };
  /** another instance took over: the service exits to restart as a standby */
  onOwnershipLost?: () => void;
}

/** The trainer of both streams: image-label events and text windows, one learner each. */
export class Trainer extends TrainerShell {
  private readonly imageLearner: ImageLabelLearner;
  private readonly wordLearner: SkipGramLearner;

  constructor(opts: TrainerOptions) {
    const s = schemaTexts();
    const t = opts.topics;
    const images = new ImageLabelLearner(t.trainImageLabels, opts.registry, s.imageLabel.text, { ...opts.images, seed: opts.seed }, opts.metrics, opts.logger, opts.threads);
    const words = new SkipGramLearner(t.trainTextWindows, opts.registry, s.textWindow.text, { ...opts.words, seed: opts.seed + 1 }, opts.metrics, opts.logger, opts.threads);
    super({ ...opts, learners: [images, words] });
    this.imageLearner = images;
    this.wordLearner = words;
  }

  /** The image-label model (vocabularies, positives and vectors). */
  get images(): ImageLabelModel {
    return this.imageLearner.model;
  }

  /** The skip-gram model. */
  get words(): SkipGramModel {
    return this.wordLearner.model;
  }
}
