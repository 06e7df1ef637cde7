import { parentPort, workerData } from 'node:worker_threads';
import { serveRefreshes, type RefresherInit } from '../tables.js';
import { KERNEL_NAMES, kernelDrivers, type AttachedKernel, type KernelCounters, type KernelName } from './drivers.js';
import type { PoolMessage, PoolReply, TrainingThreadInit } from './pool.js';

// The one worker entry of the kernels: a rank-table refresher, or a training thread that
// attaches to every kernel it is given (from the driver registry) and runs the jobs the main
// thread sends it on its own step list or corpus slot (see WorkerPool).
const init = workerData as TrainingThreadInit | RefresherInit;
if (init.role === 'refresher') serveRefreshes(init);
else serveTraining(init);

function serveTraining(init: TrainingThreadInit): void {
  if (parentPort === null) throw new Error('training thread: must run as a worker thread');
  const port = parentPort;
  const send = (m: PoolReply): void => port.postMessage(m);
  // a kernel that cannot attach throws here: the pool sees the thread's error event and fails
  const attached = new Map<KernelName, AttachedKernel<KernelName>>();
  for (const name of KERNEL_NAMES) {
    const share = init.shares[name];
    if (share !== undefined) attached.set(name, attach(name, share, init));
  }
  port.on('message', (m: PoolMessage) => {
    if (m.type === 'stop') {
      port.close();
      return;
    }
    try {
      const t0 = performance.now();
      const kernel = attached.get(m.job.kernel);
      if (kernel === undefined) throw new Error(`no ${m.job.kernel} kernel on this thread`);
      kernel.run(m.job.work as never);
      const counters: Partial<KernelCounters> = {};
      for (const [name, k] of attached) (counters as Record<string, unknown>)[name] = k.counters();
      send({ type: 'done', counters, seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
}

function attach(name: KernelName, share: NonNullable<TrainingThreadInit['shares'][KernelName]>, init: TrainingThreadInit): AttachedKernel<KernelName> {
  // each driver takes its own share type: the registry pairs them by name
  const driver = kernelDrivers[name] as { attach(s: typeof share, t: number, tt: number, seed: number): AttachedKernel<KernelName> };
  return driver.attach(share, init.thread, init.trainingThreads, init.seed);
}
