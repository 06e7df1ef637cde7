#!/usr/bin/env node
import { buildTrainer, runService, trainerOptions } from '@freshet/pipeline';

runService(
  'trainer',
  'Trains image-label and word embeddings online from the training topics, with checkpoints and model updates.',
  trainerOptions,
  buildTrainer,
).catch((err: unknown) => {
  // a configuration or start-up problem: one line naming it, no stack trace
  process.stderr.write(`freshet-trainer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
