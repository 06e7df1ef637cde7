import { parentPort, workerData } from 'node:worker_threads';
import { SgnsKernel } from './sgns-kernel.js';
import { runShare, type WorkerInit, type WorkerResult } from './train.js';

if (parentPort === null) throw new Error('skip-gram worker: must run as a worker thread');
const port = parentPort;
try {
  const init = workerData as WorkerInit;
  // threads >= 1 only train: thread 0 keeps the shared rank tables fresh for everyone
  const kernel = SgnsKernel.attach(init.share, init.thread, init.seed);
  runShare(kernel, { first: init.first, end: init.end }, init);
  const c = kernel.counters();
  port.postMessage({ pairs: c.pairs, draws: c.draws, fallbacks: c.fallbacks, mixed: c.mixed, lossSum: c.lossSum } satisfies WorkerResult);
} catch (err) {
  port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err), pairs: 0, draws: 0, fallbacks: 0, mixed: 0, lossSum: 0 } satisfies WorkerResult);
}
