import { fileURLToPath } from 'node:url';

/**
 * The one worker entry every thread of the kernels runs (threads/worker.ts, compiled): training
 * threads and the rank-table refresher alike. Tests run from the TypeScript sources, but worker
 * threads need JavaScript, so a source path maps to its compiled twin in dist/.
 */
export function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/\/src\/threads\/entry\.ts$/, '/dist/threads/worker.js') : here.replace(/entry\.js$/, 'worker.js');
}
