#!/usr/bin/env node
import { buildServe, runService, serveOptions } from '@freshet/pipeline';

runService(
  'serve',
  'Answers nearest-neighbour, top-label and vector queries over HTTP from the latest vectors, kept fresh from the compacted latest-vector topic.',
  serveOptions,
  buildServe,
).catch((err: unknown) => {
  // a configuration or start-up problem: one line naming it, no stack trace
  process.stderr.write(`freshet-serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
