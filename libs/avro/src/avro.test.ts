import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { AvroCodec, DecodeError } from './codec.js';
import { LocalSchemaRegistry } from './registry.js';
import { latestSchemas, loadSchemaFiles } from './schemas.js';
import { bytesToVector, vectorToBytes } from './records.js';

/** The image-label event of schemas/image-label-event.v2 (the pipeline's stream types it; this package only codes it). */
interface ImageLabelEvent {
  imageId: string;
  labels: string[];
  eventTime: number;
  weight: number | null;
  source: string | null;
}

const files = loadSchemaFiles();
const byKey = new Map(files.map((f) => [`${f.name}.v${f.version}`, f]));
const text = (key: string): string => {
  const f = byKey.get(key);
  if (!f) throw new Error(`missing schema ${key}`);
  return f.text;
};

describe('schema files', () => {
  it('follow the conventions: a doc on every record and field, defaults on every added field', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const schema = JSON.parse(f.text) as { doc?: string; fields: Array<{ name: string; doc?: string }> };
      expect(schema.doc, f.name).toBeTruthy();
      for (const field of schema.fields) expect(field.doc, `${f.name}.${field.name}`).toBeTruthy();
    }
    // every field that a later version adds has a default (FULL_TRANSITIVE needs it)
    const byName = new Map<string, typeof files>();
    for (const f of files) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
    for (const versions of byName.values()) {
      const firstFields = new Set((JSON.parse(versions[0].text) as { fields: Array<{ name: string }> }).fields.map((x) => x.name));
      for (const later of versions.slice(1)) {
        for (const field of (JSON.parse(later.text) as { fields: Array<{ name: string; default?: unknown }> }).fields) {
          if (!firstFields.has(field.name)) expect('default' in field, `${later.name}.v${later.version}.${field.name}`).toBe(true);
        }
      }
    }
    expect(latestSchemas(files).get('image-label-event')?.version).toBe(2);
  });

  it('resolve old and new writers in both directions for every pair of versions (FULL_TRANSITIVE)', () => {
    const byName = new Map<string, typeof files>();
    for (const f of files) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
    let pairs = 0;
    for (const versions of byName.values()) {
      for (const reader of versions) {
        for (const writer of versions) {
          expect(() => reader.type.createResolver(writer.type), `${reader.name} v${reader.version} <- v${writer.version}`).not.toThrow();
          pairs++;
        }
      }
    }
    expect(pairs).toBeGreaterThan(files.length);
  });
});

describe('AvroCodec (Confluent wire format)', () => {
  const v1 = text('image-label-event.v1');
  const v2 = text('image-label-event.v2');

  it('writes magic byte 0, a big-endian schema id, then plain Avro', async () => {
    const registry = new LocalSchemaRegistry();
    const codec = new AvroCodec<ImageLabelEvent>(registry, 'images.raw', v2);
    const event: ImageLabelEvent = { imageId: '42', labels: ['sky', 'sea'], eventTime: 1_700_000_000_000, weight: null, source: 'test' };
    const bytes = await codec.encode(event);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(await codec.schemaId());
    // a Python consumer skips 5 bytes and reads plain Avro
    expect(avro.Type.forSchema(JSON.parse(v2) as avro.Schema).fromBuffer(bytes.subarray(5))).toEqual(event);
    expect((await codec.decode(bytes)).value).toEqual(event);
  });

  it('reads a v1 writer with the v2 reader (defaults) and a v2 writer with the v1 reader', async () => {
    const registry = new LocalSchemaRegistry();
    const oldWriter = new AvroCodec<Omit<ImageLabelEvent, 'weight' | 'source'>>(registry, 'images.raw', v1);
    const newReader = new AvroCodec<ImageLabelEvent>(registry, 'images.raw', v2);
    const fromOld = await newReader.decode(await oldWriter.encode({ imageId: 'a', labels: ['x'], eventTime: 5 }));
    expect(fromOld.value).toEqual({ imageId: 'a', labels: ['x'], eventTime: 5, weight: null, source: null });
    const fromNew = await oldWriter.decode(await newReader.encode({ imageId: 'b', labels: [], eventTime: 6, weight: 2, source: 's' }));
    expect(fromNew.value).toEqual({ imageId: 'b', labels: [], eventTime: 6 });
  });

  it('names each kind of bad record with a stable code', async () => {
    const registry = new LocalSchemaRegistry();
    const codec = new AvroCodec<ImageLabelEvent>(registry, 'images.raw', v2);
    const good = await codec.encode({ imageId: '1', labels: ['a', 'b'], eventTime: 1, weight: 1.5, source: null });
    const code = async (b: Buffer | null): Promise<string> => {
      try {
        await codec.decode(b);
        return 'decoded';
      } catch (err) {
        return err instanceof DecodeError ? err.code : `other: ${String(err)}`;
      }
    };
    expect(await code(null)).toBe('EMPTY_RECORD');
    expect(await code(Buffer.from([1, 0, 0, 0, 1, 2]))).toBe('BAD_MAGIC_BYTE');
    expect(await code(Buffer.from([0, 0, 0]))).toBe('TRUNCATED');
    const unknown = Buffer.from(good);
    unknown.writeInt32BE(12345, 1);
    expect(await code(unknown)).toBe('UNKNOWN_SCHEMA_ID');
    expect(await code(good.subarray(0, good.length - 3))).toBe('TRUNCATED');
    expect(await code(Buffer.concat([good.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])]))).toMatch(
      /MALFORMED_AVRO|TRUNCATED/,
    );
    await expect(codec.encode({ imageId: 7 } as unknown as ImageLabelEvent)).rejects.toThrow(/does not match the schema/);
  });

  it('refuses an array or map count the bytes cannot hold, at once (random bytes took the process down)', async () => {
    const registry = new LocalSchemaRegistry();
    const codec = new AvroCodec<ImageLabelEvent>(registry, 'images.raw', v2);
    const good = await codec.encode({ imageId: '1', labels: ['a'], eventTime: 1, weight: null, source: null });
    // header, imageId "1", then a labels block claiming 178 million items: avsc allocated and looped until V8 aborted
    const count = Buffer.alloc(10);
    let n = 178_414_678 * 2; // zig-zag
    let k = 0;
    while (n >= 0x80) {
      count[k++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    count[k++] = n;
    const hostile = Buffer.concat([good.subarray(0, 5), Buffer.from([2, 0x31]), count.subarray(0, k), Buffer.alloc(16)]);
    const t0 = performance.now();
    await expect(codec.decode(hostile)).rejects.toMatchObject({ code: 'TRUNCATED' });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('gives every process the same local ids for the same schema text', async () => {
    const a = new LocalSchemaRegistry();
    const b = new LocalSchemaRegistry([v2]);
    const id = await a.register('x-value', v2);
    expect(await b.schemaById(id)).toBe(v2);
    expect(LocalSchemaRegistry.idFor(v1)).not.toBe(id);
  });
});

describe('vector bytes', () => {
  it('round-trips little-endian float32', () => {
    const v = Float32Array.from([1.5, -2, 3.25]);
    const b = vectorToBytes(v);
    expect(b.length).toBe(12);
    expect(b.readFloatLE(4)).toBe(-2);
    expect(Array.from(bytesToVector(b, 3))).toEqual([1.5, -2, 3.25]);
  });
});
