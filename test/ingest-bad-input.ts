import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { defaultIngestLimits, imageLabelsStream, IngestProcessor, textWindowsStream, TopicCatalogue } from '@freshet/pipeline';
import { createLogger, createRegistry } from '@freshet/runtime';
import type { OutgoingRecord, Transport } from '@freshet/transport';
import { Writable } from 'node:stream';
import { badInputCases } from './ingest-bad-cases.js';

/** A running ingest, seen from outside: in this process, or the service as its own process. */
export interface RunningIngest {
  handled(): Promise<number>;
  running(): Promise<boolean>;
  /** its Prometheus exposition */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts an ingest on `topics` with an 8 KiB record limit. */
export type IngestLauncher = (transport: Transport, topics: TopicCatalogue, prefix: string) => Promise<RunningIngest>;

/** The ingest processor inside the test process. */
export const inProcessIngest: IngestLauncher = async (transport, topics, prefix) => {
  const metrics = createRegistry('ingest');
  const ingest = new IngestProcessor({
    transport,
    registry: new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)),
    topics,
    limits: { ...defaultIngestLimits(), maxRecordBytes: 8 * 1024 },
    groupId: `${prefix}ingest`,
    logger: createLogger('ingest-test', { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
    metrics,
  });
  await ingest.start();
  return { handled: async () => ingest.handled, running: async () => ingest.isRunning, metrics: () => metrics.metrics(), stop: () => ingest.stop() };
};

/** Rejections counted in an exposition, by reason code (summed over topics). */
function rejectionsByCode(exposition: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of exposition.matchAll(/^freshet_ingest_rejections_total\{[^}]*code="([A-Z_0-9]+)"[^}]*\} (\d+)$/gm))
    out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  return out;
}

/**
 * Every kind of bad input, fed through a transport to a running ingest: each lands in the
 * dead-letter topic with its reason code and is counted in the metric, the ingest keeps running,
 * and no valid record around them is lost.
 */
export function ingestBadInputSuite(name: string, makeTransport: () => Promise<Transport>, launch: IngestLauncher = inProcessIngest): void {
  describe(`ingest bad-input table: ${name}`, () => {
    it('dead-letters each bad record with its reason and forwards every good one in order', async () => {
      const transport = await makeTransport();
      const prefix = `badinput-${randomUUID().slice(0, 8)}.`;
      const topics = new TopicCatalogue(prefix);
      const admin = await transport.admin();
      await admin.createTopics(topics.specs(1).map((spec) => ({ ...spec, partitions: 1 })));
      const { codecs, cases } = await badInputCases(topics);
      const [imageCodec, textCodec, dlCodec] = [codecs.raw(imageLabelsStream), codecs.raw(textWindowsStream), codecs.deadLetters()];
      expect(cases.filter((c) => c.expect !== 'ok').length).toBeGreaterThanOrEqual(30);

      const producer = await transport.producer();
      for (const c of cases) {
        const record: OutgoingRecord = { key: Buffer.from(c.name), value: c.value, headers: { case: c.name } };
        await producer.send(c.topic === 'image' ? topics.raw('image-labels') : topics.raw('text-windows'), [record]);
      }
      const ingest = await launch(transport, topics, prefix);
      await waitFor(async () => (await ingest.handled()) >= cases.length, { timeoutMs: 60_000, what: 'ingest to handle every case', intervalMs: 100 });
      expect(await ingest.handled()).toBe(cases.length);
      expect(await ingest.running()).toBe(true);

      // read back what ingest wrote, with our own consumers
      const read = async (topic: string, expected: number): Promise<Array<{ key: string; value: Buffer | null }>> => {
        const out: Array<{ key: string; value: Buffer | null }> = [];
        const consumer = await transport.consumer({ groupId: `reader-${topic}`, topics: [topic], fromBeginning: true });
        void consumer.run(async (b) => {
          for (const r of b.records) out.push({ key: r.key?.toString() ?? '', value: r.value });
        });
        await waitFor(() => out.length >= expected, { timeoutMs: 60_000, what: `${expected} records on ${topic}`, intervalMs: 100 });
        await consumer.close();
        return out;
      };
      const okImages = cases.filter((c) => c.expect === 'ok' && c.topic === 'image').length;
      const okText = cases.filter((c) => c.expect === 'ok' && c.topic === 'text').length;
      const badCases = cases.filter((c) => c.expect !== 'ok');
      const trainImages = await read(topics.train('image-labels'), okImages);
      const trainText = await read(topics.train('text-windows'), okText);
      const dead = await read(topics.deadLetters, badCases.length);
      // every valid record forwarded once, in order
      expect(trainImages.map((r) => r.key)).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4']);
      const decoded = await Promise.all(trainImages.map(async (r) => (await imageCodec.decode(r.value)).value));
      expect(decoded[1].labels).toEqual(['sea']);
      expect(decoded[3].labels).toEqual(['blue_sky']);
      expect(trainText.map((r) => r.key)).toEqual(['d-1', 'd-8']);
      const texts = await Promise.all(trainText.map(async (r) => (await textCodec.decode(r.value)).value));
      expect(texts[1].tokens).toEqual(['call', 'me', 'ishmael']);
      expect(dead).toHaveLength(badCases.length);
      const letters = await Promise.all(dead.map(async (r) => (await dlCodec.decode(r.value)).value));
      // order is defined within a raw topic's partition, not across the two raw topics
      const byKey = new Map(letters.map((l) => [l.originalKey?.toString() ?? '', l]));
      expect(byKey.size).toBe(badCases.length);
      for (const c of badCases) {
        const letter = byKey.get(c.name);
        expect(letter, c.name).toBeDefined();
        if (!letter) continue;
        expect(letter.errorCode, c.name).toMatch(new RegExp(`^(${c.expect})$`));
        expect(letter.error.length, c.name).toBeGreaterThan(5);
        expect(letter.service).toBe('ingest');
        expect(letter.topic).toBe(c.topic === 'image' ? topics.raw('image-labels') : topics.raw('text-windows'));
        // the original bytes are kept whole
        expect(letter.originalValue?.equals(c.value ?? Buffer.alloc(0)) ?? c.value === null, c.name).toBe(true);
      }
      const imageLetters = letters.filter((l) => l.topic === topics.raw('image-labels')).map((l) => l.offset);
      expect(imageLetters).toEqual([...imageLetters].sort((a, b) => a - b));
      // every dead letter is counted under its reason code, and nothing else is
      const counted = rejectionsByCode(await ingest.metrics());
      const lettered = new Map<string, number>();
      for (const l of letters) lettered.set(l.errorCode, (lettered.get(l.errorCode) ?? 0) + 1);
      expect(new Map([...counted].filter(([, n]) => n > 0))).toEqual(lettered);
      expect(counted.get('BAD_MAGIC_BYTE')).toBe(2);
      expect(counted.get('WRONG_RECORD_TYPE')).toBe(3);
      expect(await ingest.running()).toBe(true);
      await ingest.stop();
      await producer.close();
      await admin.close();
    });
  });
}
