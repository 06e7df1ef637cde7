#!/usr/bin/env node
import { buildPublisher, publisherOptions, runService } from '@freshet/pipeline';

runService(
  'publisher',
  'Publishes the latest vectors (compacted topic) and versioned, chunked snapshots with manifests.',
  publisherOptions,
  buildPublisher,
).catch((err: unknown) => {
  // a configuration or start-up problem: one line naming it, no stack trace
  process.stderr.write(`freshet-publisher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
