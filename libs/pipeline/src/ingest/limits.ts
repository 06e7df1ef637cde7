import type { OptionSpec, OptionValues } from '@freshet/runtime';
import { STREAMS } from '../streams/index.js';
import type { AnyStream } from '../streams/stream.js';
import { commonIngestLimits, type IngestLimits } from './checks.js';

/** Every limit at its default: the common ones and each stream's. */
export function defaultIngestLimits(streams: readonly AnyStream[] = STREAMS): IngestLimits {
  return Object.assign({}, commonIngestLimits.defaults, ...streams.map((s) => s.limits.defaults)) as IngestLimits;
}

/** The ingest service's limit flags: the common ones and each stream's. */
export function ingestLimitOptions(streams: readonly AnyStream[] = STREAMS): OptionSpec[] {
  return [...commonIngestLimits.options({ env: true }), ...streams.flatMap((s) => s.limits.options({ env: true }))];
}

/** The limits from the service's flags and environment. */
export function ingestLimitsFrom(values: OptionValues, streams: readonly AnyStream[] = STREAMS): IngestLimits {
  return Object.assign({}, commonIngestLimits.read(values), ...streams.map((s) => s.limits.read(values))) as IngestLimits;
}
