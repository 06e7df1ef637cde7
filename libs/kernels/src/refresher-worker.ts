import { workerData } from 'node:worker_threads';
import { serveRefreshes, type TableRegions } from './tables.js';

// Rebuilds a kernel's rank tables whenever the training thread asks (see AsyncTableRefresher).
const { memory, regions } = workerData as { memory: WebAssembly.Memory; regions: TableRegions };
serveRefreshes(memory, regions);
