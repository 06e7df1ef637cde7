import avro from 'avsc';
import { AvroCodec, LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { Codecs, imageLabelsStream, textWindowsStream, type ImageLabelEvent, type TextWindowEvent, type TopicCatalogue } from '@freshet/pipeline';

/** One raw record of the table: which stream's raw topic it goes to, and what ingest must make of it ('ok' or rejection codes). */
export interface Case {
  name: string;
  topic: 'image' | 'text';
  value: Buffer | null;
  expect: string;
}

/**
 * The bad-input table: every kind of record a producer can get wrong (framing, schema ids, Avro
 * bodies, ids, labels, tokens, numbers, times), with the valid ones around them, encoded for a
 * deployment's topics. The registry knows every schema version up front, as a reader of the
 * dead-letter topic would.
 */
export async function badInputCases(topics: TopicCatalogue): Promise<{ registry: LocalSchemaRegistry; codecs: Codecs; cases: Case[] }> {
  // every schema version known up front, as a reader of the dead-letter topic would have them
  const files = loadSchemaFiles();
  const registry = new LocalSchemaRegistry(files.map((f) => f.text));
  const v1Text = files.find((f) => f.name === 'image-label-event' && f.version === 1)?.text ?? '';
  const codecs = new Codecs(registry, topics);
  const imageCodec = codecs.raw(imageLabelsStream);
  const oldImageCodec = new AvroCodec<Omit<ImageLabelEvent, 'weight' | 'source'>>(registry, topics.raw('image-labels'), v1Text);
  const textCodec = codecs.raw(textWindowsStream);
  const t0 = 1_700_000_000_000;
  const img = (id: string, labels: string[], over: Partial<ImageLabelEvent> = {}): ImageLabelEvent => ({
    imageId: id,
    labels,
    eventTime: t0,
    weight: null,
    source: null,
    ...over,
  });
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

  const cases: Case[] = [
    { name: 'valid v2 event', topic: 'image', value: good, expect: 'ok' },
    {
      name: 'valid v1 event (old producer)',
      topic: 'image',
      value: await oldImageCodec.encode({ imageId: 'ok-2', labels: ['Sea'], eventTime: t0 }),
      expect: 'ok',
    },
    {
      name: 'malformed Avro body',
      topic: 'image',
      value: withSchemaId(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), imageId),
      expect: 'MALFORMED_AVRO|TRUNCATED',
    },
    { name: 'wrong magic byte', topic: 'image', value: Buffer.concat([Buffer.from([1]), good.subarray(1)]), expect: 'BAD_MAGIC_BYTE' },
    { name: 'unknown schema id', topic: 'image', value: withSchemaId(good.subarray(5), 999_999), expect: 'UNKNOWN_SCHEMA_ID' },
    { name: 'truncated record', topic: 'image', value: good.subarray(0, good.length - 4), expect: 'TRUNCATED' },
    { name: 'header only', topic: 'image', value: good.subarray(0, 3), expect: 'TRUNCATED' },
    { name: 'empty value', topic: 'image', value: null, expect: 'EMPTY_RECORD' },
    { name: 'empty label set', topic: 'image', value: await imageCodec.encode(img('e-1', [])), expect: 'EMPTY_LABELS' },
    {
      name: 'huge label set',
      topic: 'image',
      value: await imageCodec.encode(
        img(
          'h-1',
          Array.from({ length: 100 }, (_, i) => `l${i}`),
        ),
      ),
      expect: 'TOO_MANY_LABELS',
    },
    { name: 'invalid UTF-8', topic: 'image', value: withSchemaId(badUtf8Body, imageId), expect: 'INVALID_UTF8' },
    { name: 'NaN weight', topic: 'image', value: await imageCodec.encode(img('n-1', ['sky'], { weight: Number.NaN })), expect: 'BAD_NUMBER' },
    {
      name: 'infinite weight',
      topic: 'image',
      value: await imageCodec.encode(img('n-2', ['sky'], { weight: Number.POSITIVE_INFINITY })),
      expect: 'BAD_NUMBER',
    },
    {
      name: 'record over the size limit',
      topic: 'image',
      value: await imageCodec.encode(img('big', ['sky'], { source: 'x'.repeat(9000) })),
      expect: 'RECORD_TOO_LARGE',
    },
    {
      name: 'valid text window',
      topic: 'text',
      value: await textCodec.encode({ documentId: 'd-1', sequence: 0, tokens: ['Call', 'me', 'Ishmael'], eventTime: t0 }),
      expect: 'ok',
    },
    {
      name: 'oversized token window',
      topic: 'text',
      value: await textCodec.encode({ documentId: 'd-2', sequence: 1, tokens: Array.from({ length: 3000 }, () => 'w'), eventTime: t0 }),
      expect: 'TOO_MANY_TOKENS|RECORD_TOO_LARGE',
    },
    {
      name: 'empty token window',
      topic: 'text',
      value: await textCodec.encode({ documentId: 'd-3', sequence: 2, tokens: ['...'], eventTime: t0 }),
      expect: 'EMPTY_TOKENS',
    },
    { name: 'valid event after the bad ones', topic: 'image', value: await imageCodec.encode(img('ok-3', ['tree'])), expect: 'ok' },
    { name: 'empty image id', topic: 'image', value: await imageCodec.encode(img('   ', ['sky'])), expect: 'EMPTY_ID' },
    { name: 'image id over the length limit', topic: 'image', value: await imageCodec.encode(img('i'.repeat(300), ['sky'])), expect: 'ID_TOO_LONG' },
    { name: 'a tab inside the image id', topic: 'image', value: await imageCodec.encode(img('a\tb', ['sky'])), expect: 'CONTROL_CHARACTER' },
    { name: 'only blank labels', topic: 'image', value: await imageCodec.encode(img('b-1', ['  ', ''])), expect: 'EMPTY_LABELS' },
    {
      name: 'every label over the length limit',
      topic: 'image',
      value: await imageCodec.encode(img('b-2', ['y'.repeat(80), 'z'.repeat(90)])),
      expect: 'EMPTY_LABELS',
    },
    {
      name: 'every label a control character',
      topic: 'image',
      value: await imageCodec.encode(img('b-3', ['\u0001', '\u0007bell'])),
      expect: 'EMPTY_LABELS',
    },
    { name: 'negative weight', topic: 'image', value: await imageCodec.encode(img('w-1', ['sky'], { weight: -2 })), expect: 'BAD_NUMBER' },
    { name: 'zero weight', topic: 'image', value: await imageCodec.encode(img('w-2', ['sky'], { weight: 0 })), expect: 'BAD_NUMBER' },
    { name: 'negative event time', topic: 'image', value: await imageCodec.encode(img('t-2', ['sky'], { eventTime: -5 })), expect: 'BAD_NUMBER' },
    {
      name: 'event time in the year 3000',
      topic: 'image',
      value: await imageCodec.encode(img('t-3', ['sky'], { eventTime: year3000 })),
      expect: 'EVENT_TIME_IN_FUTURE',
    },
    {
      name: 'a text window on the image topic',
      topic: 'image',
      value: await textCodec.encode(win({ documentId: 'misrouted' })),
      expect: 'WRONG_RECORD_TYPE',
    },
    {
      name: 'a dead letter on the image topic',
      topic: 'image',
      value: await dlCodec.encode({
        originalValue: null,
        originalKey: null,
        topic: 'x',
        partition: 0,
        offset: 0,
        error: 'e',
        errorCode: 'X',
        service: 's',
        truncated: false,
        originalSize: -1,
        originalCrc: -1,
        rejectedAt: t0,
      }),
      expect: 'WRONG_RECORD_TYPE',
    },
    { name: 'JSON instead of Avro', topic: 'image', value: Buffer.from('{"imageId":"json","labels":["sky"]}'), expect: 'BAD_MAGIC_BYTE' },
    { name: 'a negative schema id', topic: 'image', value: withSchemaId(good.subarray(5), -7), expect: 'UNKNOWN_SCHEMA_ID' },
    { name: 'four bytes', topic: 'image', value: Buffer.from([0, 0, 0, 1]), expect: 'TRUNCATED' },
    {
      name: 'labels with tabs and one bad label (kept, the bad one left out)',
      topic: 'image',
      value: await imageCodec.encode(img('ok-4', ['blue\tsky', 'bad\u0001'])),
      expect: 'ok',
    },
    { name: 'an image event on the text topic', topic: 'text', value: await imageCodec.encode(img('misrouted', ['sky'])), expect: 'WRONG_RECORD_TYPE' },
    { name: 'empty document id', topic: 'text', value: await textCodec.encode(win({ documentId: '' })), expect: 'EMPTY_ID' },
    { name: 'a newline inside the document id', topic: 'text', value: await textCodec.encode(win({ documentId: 'doc\n2' })), expect: 'CONTROL_CHARACTER' },
    { name: 'negative sequence', topic: 'text', value: await textCodec.encode(win({ documentId: 'd-4', sequence: -1 })), expect: 'BAD_NUMBER' },
    {
      name: 'text event time in the year 3000',
      topic: 'text',
      value: await textCodec.encode(win({ documentId: 'd-5', eventTime: year3000 })),
      expect: 'EVENT_TIME_IN_FUTURE',
    },
    {
      name: 'tokens that are all invalid UTF-8',
      topic: 'text',
      value: await textCodec.encode(win({ documentId: 'd-6', tokens: ['\uFFFD', '\uFFFD\uFFFD'] })),
      expect: 'EMPTY_TOKENS',
    },
    {
      name: 'tokens that are all control characters',
      topic: 'text',
      value: await textCodec.encode(win({ documentId: 'd-7', tokens: ['\u0002', '\u001b[0m'] })),
      expect: 'EMPTY_TOKENS',
    },
    {
      name: 'a single token over the length limit',
      topic: 'text',
      value: await textCodec.encode(win({ documentId: 'd-9', tokens: ['p'.repeat(200)] })),
      expect: 'EMPTY_TOKENS',
    },
    {
      name: 'malformed text body',
      topic: 'text',
      value: withSchemaId(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), await textCodec.schemaId()),
      expect: 'MALFORMED_AVRO|TRUNCATED',
    },
    {
      name: 'raw text with tabs, newlines and zero-width spaces (accepted)',
      topic: 'text',
      value: await textCodec.encode({ documentId: 'd-8', sequence: 3, tokens: ['Call\tme\nIsh\u200Bmael'], eventTime: t0 }),
      expect: 'ok',
    },
  ];
  return { registry, codecs, cases };
}
