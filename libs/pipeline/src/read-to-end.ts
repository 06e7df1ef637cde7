import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, Consumer, Transport } from '@freshet/transport';

/**
 * Reads a topic from its beginning up to the end offsets it has now (a compacted topic's current
 * state), through a throwaway consumer group that commits nothing. Used to rebuild state that
 * lives in Kafka, such as the publisher's view of every entity's latest vector. It gives up only
 * when nothing arrives for `stallMs`: a big topic takes as long as it takes (a million vectors,
 * minutes), a stuck read does not.
 */
export async function readToEnd(
  transport: Transport,
  topic: string,
  onRecord: (record: ConsumedRecord) => void | Promise<void>,
  stallMs = 120_000,
): Promise<number> {
  return readBatchesToEnd(
    transport,
    topic,
    async (records) => {
      for (const [j, record] of records.entries()) {
        // a restore reads the whole topic: health probes must still be answered meanwhile
        if (j > 0 && j % 256 === 0) await new Promise((r) => setImmediate(r));
        await onRecord(record);
      }
    },
    stallMs,
  );
}

/**
 * readToEnd a fetched batch at a time (records before the end offsets only): for a caller that
 * decodes a batch at once, as a restore of a million records must.
 */
export async function readBatchesToEnd(
  transport: Transport,
  topic: string,
  onBatch: (records: ConsumedRecord[]) => Promise<void>,
  stallMs = 120_000,
): Promise<number> {
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
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            reject(new Error(`reading ${topic} to its end: nothing arrived for ${stallMs} ms (partitions still behind: ${[...remaining.keys()].join(', ')})`)),
          stallMs,
        );
      };
      arm();
      consumer
        .run(async (batch) => {
          arm();
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          // compaction leaves gaps in offsets: stop at the first record at or past the end
          const records = batch.records.filter((record) => record.offset < end);
          await onBatch(records);
          read += records.length;
          if (batch.nextOffset >= end) remaining.delete(batch.partition);
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

/**
 * Reads records [from, to] (inclusive) of one partition, through a throwaway consumer group that
 * seeks there as soon as it is assigned: how a snapshot reader fetches a version's chunks from the
 * offsets its manifest lists, without scanning the topic.
 */
export async function readRange(
  transport: Transport,
  topic: string,
  partition: number,
  from: number,
  to: number,
  timeoutMs = 60_000,
): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  if (to < from) return out;
  let seeked = false;
  // assigned during consumer() on some transports: the callback may run before the variable is set
  let consumer: Consumer | null = null;
  consumer = await transport.consumer({
    groupId: `freshet-read-${topic}-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    onAssignment: (assigned) => {
      if (assigned.some((a) => a.topic === topic && a.partition === partition)) {
        consumer?.seek({ topic, partition, offset: from });
        seeked = true;
      }
    },
  });
  const c = consumer;
  if (!seeked && c.assignment().some((a) => a.partition === partition)) {
    c.seek({ topic, partition, offset: from });
    seeked = true;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`reading ${topic}#${partition} offsets ${from}..${to} took more than ${timeoutMs} ms`)), timeoutMs);
      c.run(async (batch) => {
        if (batch.partition !== partition) return;
        for (const record of batch.records) {
          if (record.offset < from) continue;
          if (record.offset > to) break;
          out.push(record);
        }
        if (batch.nextOffset > to) resolve();
      }).catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await c.close();
  }
  return out;
}

/**
 * The record at each given position (one per topic partition), read through one throwaway
 * consumer group. A position past its partition's end has no record. Fails after `timeoutMs`
 * rather than answer "missing" for a record it could not reach.
 */
export async function readRecordsAt(
  transport: Transport,
  positions: ReadonlyArray<{ topic: string; partition: number; offset: number }>,
  timeoutMs = 60_000,
): Promise<ConsumedRecord[]> {
  if (positions.length === 0) return [];
  const wanted = new Map(positions.map((p) => [`${p.topic}#${p.partition}`, p.offset]));
  const found = new Map<string, ConsumedRecord>();
  const topics = [...new Set(positions.map((p) => p.topic))];
  const ends = new Map<string, number>();
  const admin = await transport.admin();
  try {
    for (const t of topics) for (const e of await admin.endOffsets(t)) ends.set(`${t}#${e.partition}`, e.offset);
  } finally {
    await admin.close();
  }
  // positions at or past the end have no record: nothing to wait for
  for (const [k, offset] of wanted) if (offset >= (ends.get(k) ?? 0)) wanted.delete(k);
  if (wanted.size === 0) return [];
  let consumer: Consumer | null = null;
  const seekAll = (assigned: ReadonlyArray<{ topic: string; partition: number }>): void => {
    for (const a of assigned) {
      const offset = wanted.get(`${a.topic}#${a.partition}`);
      if (offset !== undefined) consumer?.seek({ topic: a.topic, partition: a.partition, offset });
    }
  };
  consumer = await transport.consumer({ groupId: `freshet-check-${randomUUID()}`, topics, fromBeginning: true, onAssignment: seekAll });
  const c = consumer;
  seekAll(c.assignment());
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`reading back ${wanted.size - found.size} checkpointed record(s) took more than ${timeoutMs} ms`)), timeoutMs);
      c.run(async (batch) => {
        const key = `${batch.topic}#${batch.partition}`;
        const offset = wanted.get(key);
        if (offset === undefined || found.has(key)) return;
        const r = batch.records.find((x) => x.offset === offset);
        if (r !== undefined) found.set(key, r);
        // compaction or a gap: the first record beyond it means the offset holds none
        else if (batch.nextOffset > offset) wanted.delete(key);
        if ([...wanted.keys()].every((k) => found.has(k))) resolve();
      }).catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await c.close();
  }
  return [...found.values()];
}
