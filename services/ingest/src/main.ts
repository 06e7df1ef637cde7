#!/usr/bin/env node
import { buildIngest, ingestOptions, runService } from '@freshet/pipeline';

runService(
  'ingest',
  'Validates and normalises raw image-label and text-window events; forwards training records, dead-letters bad ones.',
  ingestOptions,
  buildIngest,
).catch((err: unknown) => {
  // a configuration or start-up problem: one line naming it, no stack trace
  process.stderr.write(`freshet-ingest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
