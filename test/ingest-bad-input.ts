import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { AvroCodec, LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { waitFor } from '@freshet/runtime';
import { Codecs, defaultIngestLimits, imageLabelsStream, IngestProcessor, textWindowsStream, TopicCatalogue, type ImageLabelEvent, type TextWindowEvent } from '@freshet/pipeline';
import { createLogger, createRegistry } from '@freshet/runtime';
import type { OutgoingRecord, Transport } from '@freshet/transport';
import { Writable } from 'node:stream';

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
  for (const m of exposition.matchAll(/^freshet_ingest_rejections_total\{[^}]*code="([A-Z_0-9]+)"[^}]*\} (\d+)$/gm)) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
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
      // every schema version known up front, as a reader of the dead-letter topic would have them
      const files = loadSchemaFiles();
      const registry = new LocalSchemaRegistry(files.map((f) => f.text));
      const v1Text = files.find((f) => f.name === 'image-label-event' && f.version === 1)?.text ?? '';
      const codecs = new Codecs(registry, topics);
      const imageCodec = codecs.raw(imageLabelsStream);
      const oldImageCodec = new AvroCodec<Omit<ImageLabelEvent, 'weight' | 'source'>>(registry, topics.raw('image-labels'), v1Text);
      const textCodec = codecs.raw(textWindowsStream);
      const t0 = 1_700_000_000_000;
      const img = (id: string, labels: string[], over: Partial<ImageLabelEvent> = {}): ImageLabelEvent => ({ imageId: id, labels, eventTime: t0, weight: null, source: null, ...over });
      const good = await imageCodec.encode(img('ok-1', ['sky']));
      const withSchemaId = (body: Buffer, id: number): Buffer => {
        const header = Buffer.alloc(5);
        header.writeInt32BE(id, 1);
        return Buffer.concat([header, body]);
      };
      const imageType = avro.Type.forSchema(JSON.parse(topics.schemas.text(imageLabelsStream.schema)) as avro.Schema);
      // invalid UTF-8: encode "AB" as the id, then overwrite its two bytes with 0xff 0xfe
      const badUtf8Body = imageType.toBuffer(img('AB', ['sky']));
      const at = badUtf8Body.indexOf(Buffer.from('AB'));
      badUtf8Body[at] = 0xff;
      badUtf8Body[at + 1] = 0xfe;
      const imageId = await imageCodec.schemaId();
      const dlCodec = codecs.deadLetters();
      const year3000 = Date.UTC(3000, 0, 1);
      const win = (over: Partial<TextWindowEvent>): TextWindowEvent => ({ documentId: 'd-x', sequence: 0, tokens: ['words'], eventTime: t0, ...over });

      type Case = { name: string; topic: 'image' | 'text'; value: Buffer | null; expect: string };
      const cases: Case[] = [
        { name: 'valid v2 event', topic: 'image', value: good, expect: 'ok' },
        { name: 'valid v1 event (old producer)', topic: 'image', value: await oldImageCodec.encode({ imageId: 'ok-2', labels: ['Sea'], eventTime: t0 }), expect: 'ok' },
        { name: 'malformed Avro body', topic: 'image', value: withSchemaId(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), imageId), expect: 'MALFORMED_AVRO|TRUNCATED' },
        { name: 'wrong magic byte', topic: 'image', value: Buffer.concat([Buffer.from([1]), good.subarray(1)]), expect: 'BAD_MAGIC_BYTE' },
        { name: 'unknown schema id', topic: 'image', value: withSchemaId(good.subarray(5), 999_999), expect: 'UNKNOWN_SCHEMA_ID' },
        { name: 'truncated record', topic: 'image', value: good.subarray(0, good.length - 4), expect: 'TRUNCATED' },
        { name: 'header only', topic: 'image', value: good.subarray(0, 3), expect: 'TRUNCATED' },
        { name: 'empty value', topic: 'image', value: null, expect: 'EMPTY_RECORD' },
        { name: 'empty label set', topic: 'image', value: await imageCodec.encode(img('e-1', [])), expect: 'EMPTY_LABELS' },
        { name: 'huge label set', topic: 'image', value: await imageCodec.encode(img('h-1', Array.from({ length: 100 }, (_, i) => `l${i}`))), expect: 'TOO_MANY_LABELS' },
        { name: 'invalid UTF-8', topic: 'image', value: withSchemaId(badUtf8Body, imageId), expect: 'INVALID_UTF8' },
        { name: 'NaN weight', topic: 'image', value: await imageCodec.encode(img('n-1', ['sky'], { weight: Number.NaN })), expect: 'BAD_NUMBER' },
        { name: 'infinite weight', topic: 'image', value: await imageCodec.encode(img('n-2', ['sky'], { weight: Number.POSITIVE_INFINITY })), expect: 'BAD_NUMBER' },
        { name: 'record over the size limit', topic: 'image', value: await imageCodec.encode(img('big', ['sky'], { source: 'x'.repeat(9000) })), expect: 'RECORD_TOO_LARGE' },
        { name: 'valid text window', topic: 'text', value: await textCodec.encode({ documentId: 'd-1', sequence: 0, tokens: ['Call', 'me', 'Ishmael'], eventTime: t0 }), expect: 'ok' },
        { name: 'oversized token window', topic: 'text', value: await textCodec.encode({ documentId: 'd-2', sequence: 1, tokens: Array.from({ length: 3000 }, () => 'w'), eventTime: t0 }), expect: 'TOO_MANY_TOKENS|RECORD_TOO_LARGE' },
        { name: 'empty token window', topic: 'text', value: await textCodec.encode({ documentId: 'd-3', sequence: 2, tokens: ['...'], eventTime: t0 }), expect: 'EMPTY_TOKENS' },
        { name: 'valid event after the bad ones', topic: 'image', value: await imageCodec.encode(img('ok-3', ['tree'])), expect: 'ok' },
        { name: 'empty image id', topic: 'image', value: await imageCodec.encode(img('   ', ['sky'])), expect: 'EMPTY_ID' },
        { name: 'image id over the length limit', topic: 'image', value: await imageCodec.encode(img('i'.repeat(300), ['sky'])), expect: 'ID_TOO_LONG' },
        { name: 'a tab inside the image id', topic: 'image', value: await imageCodec.encode(img('a\tb', ['sky'])), expect: 'CONTROL_CHARACTER' },
        { name: 'only blank labels', topic: 'image', value: await imageCodec.encode(img('b-1', ['  ', ''])), expect: 'EMPTY_LABELS' },
        { name: 'every label over the length limit', topic: 'image', value: await imageCodec.encode(img('b-2', ['y'.repeat(80), 'z'.repeat(90)])), expect: 'EMPTY_LABELS' },
        { name: 'every label a control character', topic: 'image', value: await imageCodec.encode(img('b-3', ['\u0001', '\u0007bell'])), expect: 'EMPTY_LABELS' },
        { name: 'negative weight', topic: 'image', value: await imageCodec.encode(img('w-1', ['sky'], { weight: -2 })), expect: 'BAD_NUMBER' },
        { name: 'zero weight', topic: 'image', value: await imageCodec.encode(img('w-2', ['sky'], { weight: 0 })), expect: 'BAD_NUMBER' },
        { name: 'negative event time', topic: 'image', value: await imageCodec.encode(img('t-2', ['sky'], { eventTime: -5 })), expect: 'BAD_NUMBER' },
        { name: 'event time in the year 3000', topic: 'image', value: await imageCodec.encode(img('t-3', ['sky'], { eventTime: year3000 })), expect: 'EVENT_TIME_IN_FUTURE' },
        { name: 'a text window on the image topic', topic: 'image', value: await textCodec.encode(win({ documentId: 'misrouted' })), expect: 'WRONG_RECORD_TYPE' },
        { name: 'a dead letter on the image topic', topic: 'image', value: await dlCodec.encode({ originalValue: null, originalKey: null, topic: 'x', partition: 0, offset: 0, error: 'e', errorCode: 'X', service: 's', rejectedAt: t0 }), expect: 'WRONG_RECORD_TYPE' },
        { name: 'JSON instead of Avro', topic: 'image', value: Buffer.from('{"imageId":"json","labels":["sky"]}'), expect: 'BAD_MAGIC_BYTE' },
        { name: 'a negative schema id', topic: 'image', value: withSchemaId(good.subarray(5), -7), expect: 'UNKNOWN_SCHEMA_ID' },
        { name: 'four bytes', topic: 'image', value: Buffer.from([0, 0, 0, 1]), expect: 'TRUNCATED' },
        { name: 'labels with tabs and one bad label (kept, the bad one left out)', topic: 'image', value: await imageCodec.encode(img('ok-4', ['blue\tsky', 'bad\u0001'])), expect: 'ok' },
        { name: 'an image event on the text topic', topic: 'text', value: await imageCodec.encode(img('misrouted', ['sky'])), expect: 'WRONG_RECORD_TYPE' },
        { name: 'empty document id', topic: 'text', value: await textCodec.encode(win({ documentId: '' })), expect: 'EMPTY_ID' },
        { name: 'a newline inside the document id', topic: 'text', value: await textCodec.encode(win({ documentId: 'doc\n2' })), expect: 'CONTROL_CHARACTER' },
        { name: 'negative sequence', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-4', sequence: -1 })), expect: 'BAD_NUMBER' },
        { name: 'text event time in the year 3000', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-5', eventTime: year3000 })), expect: 'EVENT_TIME_IN_FUTURE' },
        { name: 'tokens that are all invalid UTF-8', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-6', tokens: ['\uFFFD', '\uFFFD\uFFFD'] })), expect: 'EMPTY_TOKENS' },
        { name: 'tokens that are all control characters', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-7', tokens: ['\u0002', '\u001b[0m'] })), expect: 'EMPTY_TOKENS' },
        { name: 'a single token over the length limit', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-9', tokens: ['p'.repeat(200)] })), expect: 'EMPTY_TOKENS' },
        { name: 'malformed text body', topic: 'text', value: withSchemaId(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), await textCodec.schemaId()), expect: 'MALFORMED_AVRO|TRUNCATED' },
        { name: 'raw text with tabs, newlines and zero-width spaces (accepted)', topic: 'text', value: await textCodec.encode({ documentId: 'd-8', sequence: 3, tokens: ['Call\tme\nIsh\u200Bmael'], eventTime: t0 }), expect: 'ok' },
      ];
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
