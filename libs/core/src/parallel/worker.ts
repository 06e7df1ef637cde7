import { parentPort, workerData } from 'node:worker_threads';
import { Matrix } from '../math/matrix.js';
import { Rng } from '../math/rng.js';
import { ImageLabelModel } from '../models/image-label.js';
import { trainImageLabelSteps } from '../models/image-label-training.js';
import { SkipGramModel } from '../models/skip-gram.js';
import { trainSkipGramEpochs } from '../models/skip-gram-training.js';
import { createSampler } from '../samplers/factory.js';
import type { ImageLabelJob, SkipGramJob, WorkerCommand, WorkerJob, WorkerReply } from './jobs.js';

if (parentPort === null) throw new Error('hogwild worker: must run as a worker thread');
const port = parentPort;
const reply = (m: WorkerReply): void => port.postMessage(m);

function runImageLabel(job: ImageLabelJob): void {
  const rng = new Rng(job.seed);
  const k = job.config.dim;
  const model = new ImageLabelModel(job.config, rng.fork(), {
    imageVectors: new Matrix(k, job.imageRows, { data: job.imageData }),
    labelVectors: new Matrix(k, job.labelRows, { data: job.labelData }),
  });
  for (let i = 0; i + 1 < job.positivesStart.length; i++) {
    model.setPositives(i, job.positivesFlat.subarray(job.positivesStart[i], job.positivesStart[i + 1]));
  }
  const sampler = createSampler(job.sampler, model.labelVectors, () => job.labelCounts, rng.fork());
  const pairs = { images: job.pairImages, labels: job.pairLabels, length: job.pairImages.length };
  const stepRng = rng.fork();
  port.on('message', (cmd: WorkerCommand) => {
    if (cmd.type === 'stop') {
      port.close();
      return;
    }
    const r = trainImageLabelSteps(model, pairs, sampler, cmd.steps, job.lr, stepRng);
    reply({ type: 'trained', ...r, stats: { ...sampler.stats } });
  });
}

function runSkipGram(job: SkipGramJob): void {
  const rng = new Rng(job.seed);
  const k = job.config.dim;
  const model = new SkipGramModel(job.config, rng.fork(), {
    input: new Matrix(k, job.rows, { data: job.inputData }),
    output: new Matrix(k, job.rows, { data: job.outputData }),
  });
  const sampler = createSampler(job.sampler, model.output, () => job.counts, rng.fork());
  let reported = 0;
  const r = trainSkipGramEpochs(model, { ids: job.ids, starts: job.starts }, sampler, rng.fork(), {
    epochs: job.epochs,
    lr: job.lr,
    minLr: job.minLr,
    firstSentence: job.firstSentence,
    endSentence: job.endSentence,
    globalWordsDone: () => Atomics.load(job.wordsDone, 0),
    globalTotalWords: job.totalWords,
    counts: job.counts,
    onProgress: (done) => {
      Atomics.add(job.wordsDone, 0, done - reported);
      reported = done;
    },
  });
  reply({ type: 'finished', pairs: r.pairs, loss: r.loss, seconds: r.seconds, stats: { ...sampler.stats } });
}

try {
  const job = workerData as WorkerJob;
  if (job.kind === 'image-label') runImageLabel(job);
  else runSkipGram(job);
} catch (err) {
  reply({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
}
