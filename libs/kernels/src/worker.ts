import { parentPort, workerData } from 'node:worker_threads';
import { SgnsKernel } from './sgns-kernel.js';
import { runShare, type WorkerInit } from './train.js';

if (parentPort === null) throw new Error('skip-gram worker: must run as a worker thread');
const port = parentPort;
try {
  const init = workerData as WorkerInit;
  const kernel = SgnsKernel.attach(init.share, init.thread, init.seed);
  kernel.refreshDivisor = init.refreshShare;
  kernel.refresher = init.thread === 0;
  // thread 0 refreshes the shared rank tables in place for everyone
  runShare(kernel, { first: init.first, end: init.end }, { ...init, refresher: kernel.refresher });
  const c = kernel.counters();
  port.postMessage({ pairs: c.pairs, draws: c.draws, fallbacks: c.fallbacks, mixed: c.mixed, lossSum: c.loss * c.pairs, refreshes: kernel.refreshes, refreshSeconds: kernel.refreshSeconds });
} catch (err) {
  port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
