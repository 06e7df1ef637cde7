/**
 * The header ingest stamps on every training record: `<raw partition>:<raw offset>:<raw
 * timestamp ms>:<epoch>`, where in the raw log the event came from and which incarnation of that
 * log it was (see ingest/epochs.ts). Records without it (written straight to a training topic)
 * are never treated as replays; ones without the epoch come from an ingest before epochs.
 */
export const ORIGIN_HEADER = 'freshet-origin';

export interface Origin {
  partition: number;
  offset: number;
  timestamp: number;
  /** the raw log's incarnation: a new one when the topic is recreated, truncated or its offsets reset */
  epoch?: string;
}

export function originHeader(o: Origin): string {
  return `${o.partition}:${o.offset}:${o.timestamp}${o.epoch !== undefined ? `:${o.epoch}` : ''}`;
}

export function parseOrigin(value: string | undefined): Origin | null {
  if (value === undefined) return null;
  const [p, o, t, epoch] = value.split(':');
  const [partition, offset, timestamp] = [p, o, t].map(Number);
  if (!Number.isInteger(partition) || !Number.isInteger(offset) || !Number.isFinite(timestamp)) return null;
  return epoch !== undefined && epoch !== '' ? { partition, offset, timestamp, epoch } : { partition, offset, timestamp };
}
