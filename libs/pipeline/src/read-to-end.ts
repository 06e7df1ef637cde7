import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, Transport } from '@freshet/transport';

/**
 * Reads a topic from its beginning up to the end offsets it has now (a compacted topic's current
 * state), through a throwaway consumer group that commits nothing. Used to rebuild state that
 * lives in Kafka, such as the publisher's view of every entity's latest vector.
 */
export async function readToEnd(transport: Transport, topic: string, onRecord: (record: ConsumedRecord) => void | Promise<void>, timeoutMs = 120_000): Promise<number> {
  const admin = await transport.admin();
  const ends = await admin.endOffsets(topic);
  await admin.close();
  const remaining = new Map(ends.filter((e) => e.offset > 0).map((e) => [e.partition, e.offset]));
  if (remaining.size === 0) return 0;
  const consumer = await transport.consumer({ groupId: `freshet-read-${topic}-${randomUUID()}`, topics: [topic], fromBeginning: true });
  let read = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`reading ${topic} to its end took more than ${timeoutMs} ms (partitions still behind: ${[...remaining.keys()].join(', ')})`)), timeoutMs);
      consumer
        .run(async (batch) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          for (const record of batch.records) {
            // compaction leaves gaps in offsets: stop at the first record at or past the end
            if (record.offset >= end) break;
            await onRecord(record);
            read++;
          }
          if (batch.records[batch.records.length - 1].offset + 1 >= end) remaining.delete(batch.partition);
          if (remaining.size === 0) resolve();
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
  return read;
}
