import type { AvroCodec} from '@freshet/avro';
import { vectorToBytes, type EmbeddingRecord } from '@freshet/avro';
import type { OutgoingRecord, Producer } from '@freshet/transport';
import type { ChangedRows } from './learner.js';

/**
 * Sends changed rows to the model-updates topic (the publisher's input), keyed '<KIND>:<id>',
 * stamped with the checkpoint sequence and the event-time high watermark, 500 records a send.
 * Returns how many were sent.
 */
export async function sendUpdates(
  producer: Producer,
  topic: string,
  codec: AvroCodec<EmbeddingRecord>,
  groups: readonly ChangedRows[],
  stamp: { version: number; updatedAt: number },
): Promise<number> {
  let sent = 0;
  for (const g of groups) {
    for (let start = 0; start < g.names.length; start += 500) {
      const batch: OutgoingRecord[] = [];
      const end = Math.min(g.names.length, start + 500);
      for (let j = start; j < end; j++) {
        // the trainer's main thread also answers health probes: never a long synchronous stretch
        if (j > start && (j - start) % 100 === 0) await new Promise((r) => setImmediate(r));
        const record: EmbeddingRecord = {
          kind: g.kind,
          id: g.names[j],
          dim: g.dim,
          vector: vectorToBytes(g.vectors.subarray(j * g.dim, (j + 1) * g.dim)),
          version: stamp.version,
          updatedAt: stamp.updatedAt,
          bias: g.biases?.[j] ?? 0,
        };
        batch.push({ key: Buffer.from(`${g.kind}:${g.names[j]}`), value: await codec.encode(record) });
      }
      await producer.send(topic, batch);
      sent += batch.length;
    }
  }
  return sent;
}
