import type { Producer } from '@freshet/transport';
import type { Codecs } from '../catalogue.js';
import { KafkaSnapshotSink, type ChainLimits } from './kafka-snapshots.js';
import { LanceDbSink } from './lancedb.js';
import type { SnapshotSink } from './sink.js';

/** What a snapshot sink is made from in a publisher. */
export interface SinkContext {
  producer: () => Producer | null;
  codecs: Codecs;
  chunkBytes: number;
  /** when the kafka sink writes a whole version again instead of a delta */
  chain: ChainLimits;
  /** where the lancedb sink writes (a folder, or object storage LanceDB takes) */
  lancedbUri: string;
}

/**
 * The snapshot sinks a publisher can write through, by the name its `--sinks` option takes: one
 * line per sink. `kafka` (the latest-vector, snapshot and manifests topics) is the default and
 * what the publisher's own restore reads back.
 */
export const SNAPSHOT_SINKS: Readonly<Record<string, (ctx: SinkContext) => SnapshotSink>> = {
  kafka: (ctx) => new KafkaSnapshotSink(ctx.producer, ctx.codecs, ctx.chunkBytes, ctx.chain),
  lancedb: (ctx) => new LanceDbSink(ctx.lancedbUri),
};

/** The sinks a comma-separated list names (the publisher's --sinks). */
export function makeSinks(names: string, ctx: SinkContext): SnapshotSink[] {
  return names
    .split(',')
    .filter((n) => n !== '')
    .map((name) => {
      const make = SNAPSHOT_SINKS[name];
      if (make === undefined) throw new Error(`--sinks: no sink ${name} (sinks: ${Object.keys(SNAPSHOT_SINKS).join(', ')})`);
      return make(ctx);
    });
}

export { KafkaSnapshotSink, chunkBiases, chunkVectors, type ChainLimits } from './kafka-snapshots.js';
export { KafkaUpdateSink } from './kafka-updates.js';
export { LanceDbSink } from './lancedb.js';
export { entityKey, parseEntityKey } from './keys.js';
export type { ModelVersion, SnapshotSink, UpdateSink, UpdateStamp, VersionReceipt } from './sink.js';
