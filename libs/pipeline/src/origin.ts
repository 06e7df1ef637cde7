/**
 * The header ingest stamps on every training record: `<raw partition>:<raw offset>:<raw
 * timestamp ms>`, where in the raw log the event came from. Records without it (written straight
 * to a training topic) are never treated as replays.
 */
export const ORIGIN_HEADER = 'freshet-origin';

export interface Origin {
  partition: number;
  offset: number;
  timestamp: number;
}

export function originHeader(o: Origin): string {
  return `${o.partition}:${o.offset}:${o.timestamp}`;
}

export function parseOrigin(value: string | undefined): Origin | null {
  if (value === undefined) return null;
  const [partition, offset, timestamp] = value.split(':').map(Number);
  return Number.isInteger(partition) && Number.isInteger(offset) && Number.isFinite(timestamp) ? { partition, offset, timestamp } : null;
}
