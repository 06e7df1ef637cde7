import { parentPort, workerData } from 'node:worker_threads';
import type { VseWorkerCommand, VseWorkerInit, VseWorkerReply } from './image-label-trainer.js';
import { VseKernel } from './vse-kernel.js';

if (parentPort === null) throw new Error('image-label worker: must run as a worker thread');
const port = parentPort;
const send = (m: VseWorkerReply): void => port.postMessage(m);
try {
  const init = workerData as VseWorkerInit;
  const kernel = VseKernel.attach(init.share, init.thread, init.seed);
  // every thread counts its own draws: each asks for a refresh after its share of the cadence
  kernel.refreshDivisor = init.threads;
  port.on('message', (cmd: VseWorkerCommand) => {
    if (cmd.type === 'stop') {
      port.close();
      return;
    }
    try {
      kernel.trainRandom(cmd.steps, cmd.lr);
      send({ type: 'trained', counters: kernel.counters() });
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
} catch (err) {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
