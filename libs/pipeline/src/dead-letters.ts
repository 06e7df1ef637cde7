import type { AvroCodec, DeadLetter } from '@freshet/avro';
import type { ConsumedRecord, OutgoingRecord, Producer } from '@freshet/transport';

/** A record a service cannot take, with a stable code and a sentence. */
export interface Rejected {
  record: ConsumedRecord;
  code: string;
  message: string;
}

/**
 * The dead-letter topic as every service writes it: the record whole (original key, value,
 * topic, partition, offset), why, and who rejected it. Ingest dead-letters bad input; the
 * trainer and the publisher dead-letter the rare record of an internal topic they cannot decode,
 * so a poison record never stalls a partition and never goes missing without a trace.
 */
export class DeadLetters {
  constructor(
    private readonly codec: AvroCodec<DeadLetter>,
    private readonly topic: string,
    private readonly service: string,
  ) {}

  encode(r: Rejected): Promise<Buffer> {
    return this.codec.encode({
      originalValue: r.record.value,
      originalKey: r.record.key,
      topic: r.record.topic,
      partition: r.record.partition,
      offset: r.record.offset,
      error: r.message,
      errorCode: r.code,
      service: this.service,
      rejectedAt: Date.now(),
    });
  }

  /** Sends the rejected records (keyed by their original key); resolves when the broker has them. */
  async send(producer: Producer, rejected: readonly Rejected[]): Promise<void> {
    if (rejected.length === 0) return;
    const out: OutgoingRecord[] = [];
    for (const r of rejected) out.push({ key: r.record.key, value: await this.encode(r) });
    await producer.send(this.topic, out);
  }
}
