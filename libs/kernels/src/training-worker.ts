import { parentPort, workerData } from 'node:worker_threads';
import { SgnsKernel } from './sgns-kernel.js';
import type { TrainingCommand, TrainingReply, TrainingThreadInit } from './training-threads.js';
import { VseKernel } from './vse-kernel.js';

// One streaming SGD thread: attaches to the kernels' memories and runs what the main thread asks
// on its own step list and corpus slot (see TrainingThreads).
if (parentPort === null) throw new Error('training thread: must run as a worker thread');
const port = parentPort;
const send = (m: TrainingReply): void => port.postMessage(m);
const init = workerData as TrainingThreadInit;
const vse = init.vse !== null ? VseKernel.attach(init.vse, init.thread, init.seed) : null;
const sgns = init.sgns !== null ? SgnsKernel.attach(init.sgns, init.thread, init.seed + 1) : null;
if (vse !== null) vse.refreshDivisor = init.threads;
if (sgns !== null) sgns.refreshDivisor = init.threads;

port.on('message', (cmd: TrainingCommand) => {
  if (cmd.type === 'stop') {
    port.close();
    return;
  }
  try {
    const t0 = performance.now();
    if (cmd.type === 'images') {
      if (vse === null) throw new Error('no image-label kernel on this thread');
      if (cmd.count > 0) vse.trainOwnList(cmd.count, cmd.weighted, cmd.lr);
      if (cmd.replay > 0) vse.trainRandom(cmd.replay, cmd.replayLr);
    } else {
      if (sgns === null) throw new Error('no skip-gram kernel on this thread');
      for (let s = 0; s < cmd.sentences; ) s = sgns.train(init.thread, s, cmd.sentences, cmd.lr).next;
    }
    send({ type: 'done', images: vse?.counters() ?? null, words: sgns?.counters() ?? null, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
