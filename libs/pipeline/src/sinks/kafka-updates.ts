import { vectorToBytes, type AvroCodec, type EmbeddingRecord } from '@freshet/avro';
import type { OutgoingRecord, Producer } from '@freshet/transport';
import type { ChangedRows } from '../trainer/learner.js';
import { entityKey } from './keys.js';
import type { UpdateSink, UpdateStamp } from './sink.js';

/**
 * Changed rows to the model-updates topic (the publisher's input), keyed `<KIND>:<id>`, stamped
 * with the checkpoint sequence and the event-time high watermark, 500 records a send; a deleted
 * (evicted) entity as a tombstone, its key with no value.
 */
export class KafkaUpdateSink implements UpdateSink {
  readonly name = 'kafka';

  constructor(
    private readonly producer: () => Producer | null,
    private readonly topic: string,
    private readonly codec: AvroCodec<EmbeddingRecord>,
  ) {}

  async writeUpdates(groups: readonly ChangedRows[], stamp: UpdateStamp): Promise<number> {
    const producer = this.producer();
    if (producer === null) return 0;
    let sent = 0;
    for (const g of groups) {
      // deletions first: a name evicted and taken again in one drain is sent as deleted, then as new
      const gone = (g.deleted ?? []).map((name): OutgoingRecord => ({ key: Buffer.from(entityKey(g.kind, name)), value: null }));
      for (let start = 0; start < gone.length; start += 500) await producer.send(this.topic, gone.slice(start, start + 500));
      sent += gone.length;
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
          batch.push({ key: Buffer.from(entityKey(g.kind, g.names[j])), value: await this.codec.encode(record) });
        }
        await producer.send(this.topic, batch);
        sent += batch.length;
      }
    }
    return sent;
  }
}
