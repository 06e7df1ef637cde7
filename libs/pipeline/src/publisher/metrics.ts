import type { EmbeddingRecord } from '@freshet/avro';
import { Counter, Gauge, Histogram, type Registry } from '@freshet/runtime';

/** The publisher's metrics: snapshots, freshness, ownership, and the updates it would not publish. */
export function publisherMetrics(registry: Registry) {
  const registers = [registry];
  return {
    snapshots: new Counter({ name: 'freshet_snapshots_published_total', help: 'Snapshot versions published (chunks and manifest written).', registers }),
    snapshotSeconds: new Histogram({
      name: 'freshet_snapshot_duration_seconds',
      help: 'Time to write one snapshot version.',
      buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      registers,
    }),
    snapshotBytes: new Gauge({
      name: 'freshet_snapshot_size_bytes',
      help: 'Encoded size of the last snapshot (all its chunks: a whole version, or a delta holding the changes since the one before).',
      registers,
    }),
    deltas: new Counter({
      name: 'freshet_snapshot_deltas_total',
      help: 'Versions written as a delta on the snapshot topic (the changes since the version before).',
      registers,
    }),
    version: new Gauge({ name: 'freshet_snapshot_version', help: 'Version number of the last snapshot.', registers }),
    lastSnapshot: new Gauge({
      name: 'freshet_snapshot_last_published_timestamp_seconds',
      help: 'When the last snapshot was published (unix seconds); snapshot age = time() - this.',
      registers,
    }),
    freshness: new Histogram({
      name: 'freshet_freshness_seconds',
      help: 'Event time of the newest applied event to the snapshot that contains it.',
      buckets: [0.1, 0.3, 1, 3, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    catchingUp: new Gauge({
      name: 'freshet_publisher_catching_up',
      help: '1 while more model updates wait than --catch-up-records (versions every --catch-up-every-ms meanwhile), else 0.',
      registers,
    }),
    active: new Gauge({
      name: 'freshet_publisher_active',
      help: '1 while this instance owns the model updates and publishes, 0 while it stands by.',
      registers,
    }),
    rejected: new Counter({
      name: 'freshet_publisher_rejected_total',
      help: 'Model updates dead-lettered instead of published, by reason code.',
      labelNames: ['code'],
      registers,
    }),
    entities: new Gauge({ name: 'freshet_snapshot_entities', help: 'Entities in the last snapshot, by kind.', labelNames: ['kind'], registers }),
  };
}

/** Why a decoded update is not published (beside the decode errors). */
export const PUBLISH_REJECTIONS = ['BAD_VECTOR', 'NON_FINITE_VECTOR'] as const;

/** Why an update cannot be published: a vector of the wrong length, or one holding NaN or infinity (never sent downstream). */
export function vectorProblem(r: EmbeddingRecord): { code: string; message: string } | null {
  if (r.vector.length !== r.dim * 4) return { code: 'BAD_VECTOR', message: `${r.kind}:${r.id} has ${r.vector.length} vector bytes for dim ${r.dim}` };
  for (let i = 0; i < r.dim; i++) {
    if (!Number.isFinite(r.vector.readFloatLE(i * 4))) return { code: 'NON_FINITE_VECTOR', message: `${r.kind}:${r.id} holds a non-finite component at ${i}` };
  }
  if (!Number.isFinite(r.bias)) return { code: 'NON_FINITE_VECTOR', message: `${r.kind}:${r.id} has a non-finite bias` };
  return null;
}
