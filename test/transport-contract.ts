import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@freshet/runtime';
import { TransportError, partitionForKey, type Batch, type Consumer, type Transport } from '@freshet/transport';

/**
 * The behaviour every transport must have. Run against the in-memory transport and against a
 * real Kafka broker with the same assertions (memory-transport.test.ts, kafka-transport.test.ts).
 */
export function transportContract(name: string, makeTransport: () => Promise<Transport>): void {
  describe(`transport contract: ${name}`, () => {
    const open: Consumer[] = [];
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
    });

    const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

    async function collect(
      t: Transport,
      groupId: string,
      topic: string,
      until: (seen: Batch[]) => boolean,
      timeoutMs = 30_000,
    ): Promise<{ consumer: Consumer; batches: Batch[] }> {
      const batches: Batch[] = [];
      const consumer = await t.consumer({ groupId, topics: [topic], fromBeginning: true });
      open.push(consumer);
      let resolveDone: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        resolveDone = resolve;
      });
      void consumer.run(async (batch) => {
        batches.push(batch);
        if (until(batches)) resolveDone();
      });
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: timed out waiting for records`)), timeoutMs))]);
      return { consumer, batches };
    }

    const count = (batches: Batch[]): number => batches.reduce((n, b) => n + b.records.length, 0);

    it('keeps order within a partition and places keys by murmur2', async () => {
      const t = await makeTransport();
      const topic = unique('order');
      const admin = await t.admin();
      expect(await admin.listTopics()).not.toContain(topic);
      await admin.createTopics([{ topic, partitions: 3 }]);
      expect(await admin.listTopics()).toContain(topic);
      const producer = await t.producer();
      const keys = ['a', 'b', 'c', 'd'];
      const sent = await producer.send(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: Buffer.from(keys[i % 4]), value: Buffer.from(String(i)) })),
      );
      for (let i = 0; i < 40; i++) expect(sent[i].partition).toBe(partitionForKey(Buffer.from(keys[i % 4]), 3));
      const { batches } = await collect(t, unique('g'), topic, (b) => count(b) >= 40);
      const byPartition = new Map<number, number[]>();
      for (const b of batches) for (const r of b.records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), Number(r.value?.toString())]);
      for (const values of byPartition.values()) expect(values).toEqual([...values].sort((x, y) => x - y));
      const offsets = batches.flatMap((b) => b.records.map((r) => `${r.partition}:${r.offset}`));
      expect(new Set(offsets).size).toBe(40);
      await producer.close();
      await admin.close();
    });

    it('resumes a group from its last committed offset after a restart', async () => {
      const t = await makeTransport();
      const topic = unique('commit');
      const group = unique('g');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1 }]);
      const producer = await t.producer();
      await producer.send(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(String(i)), partition: 0 })),
      );
      const first = await collect(t, group, topic, (b) => count(b) >= 10);
      // commit up to (not including) offset 6: offsets 6..9 were not safely processed
      // every batch says where the next one starts (past its last record)
      for (const batch of first.batches) expect(batch.nextOffset).toBe(batch.records[batch.records.length - 1].offset + 1);
      // a commit keeps its metadata (ingest hands the raw log's epoch on in it)
      await first.consumer.commit([{ topic, partition: 0, offset: 6, metadata: 'freshet-epoch=abc' }]);
      await first.consumer.close();
      const committed = await admin.committedOffsets(group, topic);
      expect(committed).toEqual([{ topic, partition: 0, offset: 6, metadata: 'freshet-epoch=abc' }]);
      await producer.send(topic, [{ key: null, value: Buffer.from('10'), partition: 0 }]);
      const second = await collect(t, group, topic, (b) => count(b) >= 5);
      const values = second.batches.flatMap((b) => b.records.map((r) => Number(r.value?.toString())));
      expect(values.slice(0, 5)).toEqual([6, 7, 8, 9, 10]);
      expect((await admin.endOffsets(topic))[0].offset).toBe(11);
      await producer.close();
      await admin.close();
    });

    it('splits partitions between the members of a group and gives them all to the survivor', async () => {
      const t = await makeTransport();
      const topic = unique('group');
      const group = unique('g');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 4 }]);
      const producer = await t.producer();
      await producer.send(
        topic,
        Array.from({ length: 4 }, (_, p) => ({ key: null, value: Buffer.from('x'), partition: p })),
      );
      const a = await collect(t, group, topic, (b) => count(b) >= 1);
      const b = await t.consumer({ groupId: group, topics: [topic], fromBeginning: true });
      open.push(b);
      void b.run(async () => undefined);
      await waitFor(() => a.consumer.assignment().length === 2 && b.assignment().length === 2, {
        timeoutMs: 30_000,
        what: 'two partitions for each member',
        intervalMs: 100,
      });
      expect(a.consumer.assignment().length).toBe(2);
      expect(b.assignment().length).toBe(2);
      const all = [...a.consumer.assignment(), ...b.assignment()].map((tp) => tp.partition).sort();
      expect(all).toEqual([0, 1, 2, 3]);
      await b.close();
      await waitFor(() => a.consumer.assignment().length === 4, { timeoutMs: 30_000, what: 'all four partitions for the member left', intervalMs: 100 });
      expect(
        a.consumer
          .assignment()
          .map((tp) => tp.partition)
          .sort(),
      ).toEqual([0, 1, 2, 3]);
      await producer.close();
      await admin.close();
    });

    it('an exclusive group gives every partition to its oldest member; the standby takes over when it leaves', async () => {
      const t = await makeTransport();
      const topic = unique('exclusive');
      const group = unique('g');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 3 }]);
      const producer = await t.producer();
      await producer.send(
        topic,
        Array.from({ length: 3 }, (_, p) => ({ key: null, value: Buffer.from(`r${p}`), partition: p })),
      );
      const seenByStandby: string[] = [];
      const owner = await t.consumer({ groupId: group, topics: [topic], fromBeginning: true, exclusive: true });
      void owner.run(async (batch) => {
        // the owner processes and commits everything that exists now
        const last = batch.records[batch.records.length - 1];
        await owner.commit([{ topic, partition: batch.partition, offset: last.offset + 1 }]);
      });
      await waitFor(() => owner.assignment().length === 3, { timeoutMs: 30_000, what: 'every partition for the owner', intervalMs: 100 });
      expect(owner.assignment().length).toBe(3);
      const standbyShares: number[] = [];
      const standby = await t.consumer({
        groupId: group,
        topics: [topic],
        fromBeginning: true,
        exclusive: true,
        onAssignment: (a) => standbyShares.push(a.length),
      });
      open.push(standby);
      void standby.run(async (batch) => {
        for (const r of batch.records) seenByStandby.push(r.value?.toString() ?? '');
      });
      await waitFor(() => standbyShares.length > 0, { timeoutMs: 30_000, what: 'the standby to join', intervalMs: 100 });
      // the standby joined and was told it owns nothing; the owner kept everything
      expect(standbyShares[0]).toBe(0);
      expect(standby.assignment()).toEqual([]);
      await waitFor(() => owner.assignment().length === 3, { timeoutMs: 30_000, what: 'every partition for the owner', intervalMs: 100 });
      expect(owner.assignment().length).toBe(3);
      const committed = async (): Promise<number[]> => (await admin.committedOffsets(group, topic)).map((o) => o.offset);
      await waitFor(async () => (await committed()).every((o) => o === 1), { timeoutMs: 30_000, what: 'the owner to commit every partition', intervalMs: 100 });
      await owner.close();
      await waitFor(() => standby.assignment().length === 3, { timeoutMs: 30_000, what: 'every partition for the standby', intervalMs: 100 });
      expect(
        standby
          .assignment()
          .map((tp) => tp.partition)
          .sort(),
      ).toEqual([0, 1, 2]);
      // it resumes from the owner's committed offsets: only records written after the handover
      await producer.send(topic, [{ key: null, value: Buffer.from('after'), partition: 1 }]);
      await waitFor(() => seenByStandby.length > 0, { timeoutMs: 30_000, what: 'a record for the standby', intervalMs: 100 });
      expect(seenByStandby).toEqual(['after']);
      await producer.close();
      await admin.close();
    });

    it('a handler that keeps failing: the batch is retried, the consumer restarts, then run() rejects and the consumer is down', async () => {
      const topic = unique('failing');
      const t = await makeTransport();
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1 }]);
      await admin.close();
      const producer = await t.producer();
      await producer.send(topic, [{ key: Buffer.from('k'), value: Buffer.from('poison') }]);
      await producer.close();
      const consumer = await t.consumer({ groupId: unique('g'), topics: [topic], fromBeginning: true, retries: 1, maxRestarts: 2 });
      open.push(consumer);
      let calls = 0;
      const outcome = await consumer
        .run(async () => {
          calls++;
          throw new Error('handler failed');
        })
        .then(
          () => 'resolved',
          (err: Error) => err.message,
        );
      expect(outcome).toMatch(/handler failed/);
      // every attempt saw the batch: (1 + retries) per start, 1 + maxRestarts starts
      expect(calls).toBeGreaterThanOrEqual(3);
      const state = consumer.state();
      expect(state.up).toBe(false);
      expect(state.restarts).toBe(2);
      expect(state.failure).toMatch(/handler failed/);
    }, 120_000);

    it('a handler that takes longer than the session timeout keeps its membership and commits what it handled', async () => {
      // a publisher restoring a million latest vectors inside its first batch: no heartbeat for
      // longer than the 10 s session would drop the member and fail its commit as unknown
      const t = await makeTransport();
      const topic = unique('slow');
      const group = unique('g');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1 }]);
      const producer = await t.producer();
      await producer.send(topic, [{ key: null, value: Buffer.from('slow'), partition: 0 }]);
      await producer.close();
      const consumer = await t.consumer({ groupId: group, topics: [topic], fromBeginning: true });
      open.push(consumer);
      let handled = false;
      const runOutcome = consumer.run(async (batch) => {
        const started = Date.now();
        // busy for 15 s with the event loop free, as an async restore is
        await waitFor(() => Date.now() - started >= 15_000, { timeoutMs: 20_000, what: 'the slow handler', intervalMs: 200 });
        await consumer.commit([{ topic, partition: batch.partition, offset: batch.nextOffset }]);
        handled = true;
      });
      const failed = runOutcome.then(
        () => null,
        (err: Error) => err.message,
      );
      await waitFor(() => handled, { timeoutMs: 40_000, what: 'the slow batch handled and committed', intervalMs: 200 });
      expect(consumer.state().up).toBe(true);
      expect(consumer.state().restarts).toBe(0);
      expect((await admin.committedOffsets(group, topic)).map((o) => o.offset)).toEqual([1]);
      await consumer.close();
      expect(await failed).toBeNull();
      await admin.close();
    }, 60_000);

    it('rejects a record larger than the topic allows', async () => {
      const t = await makeTransport();
      const topic = unique('size');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1, maxMessageBytes: 10_000 }]);
      const producer = await t.producer();
      await expect(producer.send(topic, [{ key: null, value: Buffer.alloc(50_000) }])).rejects.toThrow();
      const ok = await producer.send(topic, [{ key: null, value: Buffer.alloc(100) }]);
      expect(ok[0].offset).toBe(0);
      await producer.close();
      await admin.close();
    });

    it('reports infrastructure failures with stable codes: an absent group, a group with members, a record too large', async () => {
      const t = await makeTransport();
      const topic = unique('codes');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1, maxMessageBytes: 10_000 }]);
      const code = async (p: Promise<unknown>): Promise<string> => {
        try {
          await p;
          return 'no error';
        } catch (err) {
          return err instanceof TransportError ? err.code : `untyped: ${String(err)}`;
        }
      };
      expect(await code(admin.deleteGroup(unique('absent')))).toBe('GROUP_NOT_FOUND');
      const group = unique('busy');
      const member = await t.consumer({ groupId: group, topics: [topic], fromBeginning: true });
      open.push(member);
      void member.run(async () => undefined);
      await waitFor(() => member.assignment().length === 1, { timeoutMs: 30_000, what: 'the member to join', intervalMs: 100 });
      expect(await code(admin.deleteGroup(group))).toBe('GROUP_NOT_EMPTY');
      const producer = await t.producer();
      expect(await code(producer.send(topic, [{ key: null, value: Buffer.alloc(50_000) }]))).toBe('RECORD_TOO_LARGE');
      await producer.close();
      await admin.close();
    });

    it('delivers one send() of many small records whose total is far above the message limit, with their offsets', async () => {
      // a big consumed batch forwarded at once (ingest) must not become one oversized record batch
      const t = await makeTransport();
      const topic = unique('bulk');
      const admin = await t.admin();
      await admin.createTopics([{ topic, partitions: 1 }]);
      await admin.close();
      const producer = await t.producer();
      const records = Array.from({ length: 3000 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.alloc(1000, i % 251),
        headers: { origin: `0:${i}:0` },
      }));
      const placed = await producer.send(topic, records);
      await producer.close();
      expect(placed.map((p) => p.offset)).toEqual(records.map((_, i) => i));
      const { batches } = await collect(t, unique('bulk-g'), topic, (seen) => count(seen) >= records.length);
      expect(count(batches)).toBe(records.length);
    }, 120_000);
  });
}
