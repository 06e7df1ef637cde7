#!/usr/bin/env node
import { buildTrainer, runService, trainerOptions } from '@freshet/pipeline';

void runService('trainer', 'Trains image-label and word embeddings online from the training topics, with checkpoints and model updates.', trainerOptions, buildTrainer);
