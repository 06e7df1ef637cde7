import { crc32 } from 'node:zlib';
import type { AvroCodec, DeadLetter } from '@freshet/avro';
import type { ConsumedRecord, OutgoingRecord, Producer } from '@freshet/transport';

/** Original key plus value bytes a dead letter keeps whole (the broker takes messages up to 1 MiB by default). */
export const DEAD_LETTER_BYTES = 512 * 1024;

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
    /** largest original key plus value kept whole; a larger record keeps its first bytes (below the broker's 1 MiB message limit, with room for the envelope) */
    private readonly maxBytes = DEAD_LETTER_BYTES,
  ) {}

  encode(r: Rejected): Promise<Buffer> {
    const value = r.record.value;
    const key = r.record.key;
    // a record near the broker's message limit would not fit once wrapped: keep its first bytes, its size and its checksum
    const keyRoom = Math.min(key?.length ?? 0, Math.floor(this.maxBytes / 8));
    const valueRoom = this.maxBytes - keyRoom;
    const truncated = (value?.length ?? 0) > valueRoom || (key?.length ?? 0) > keyRoom;
    return this.codec.encode({
      originalValue: value === null ? null : value.subarray(0, valueRoom),
      originalKey: key === null ? null : key.subarray(0, keyRoom),
      topic: r.record.topic,
      partition: r.record.partition,
      offset: r.record.offset,
      error: truncated ? `${r.message} (the dead letter keeps the first ${valueRoom} of its ${value?.length ?? 0} bytes)` : r.message,
      errorCode: r.code,
      service: this.service,
      rejectedAt: Date.now(),
      truncated,
      originalSize: value === null ? -1 : value.length,
      originalCrc: value === null ? -1 : crc32(value),
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
