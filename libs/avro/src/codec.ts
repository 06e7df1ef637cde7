import avro from 'avsc';
import { UnknownSchemaIdError, type SchemaRegistry } from './registry.js';

/** Stable reasons a record cannot be decoded; they become dead-letter `errorCode`s. */
export const decodeErrorCodes = [
  'EMPTY_RECORD',
  'TRUNCATED',
  'BAD_MAGIC_BYTE',
  'UNKNOWN_SCHEMA_ID',
  'INCOMPATIBLE_SCHEMA',
  'WRONG_RECORD_TYPE',
  'MALFORMED_AVRO',
] as const;

export type DecodeErrorCode = (typeof decodeErrorCodes)[number];

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAGIC = 0;

/**
 * The schema-registry subject of a record type on a topic: `<topic>-<record full name>`
 * (Confluent's TopicRecordNameStrategy). One subject per record type, so a topic that carries two
 * types (snapshot chunks and manifests) never asks a registry to treat them as versions of one.
 */
export function recordSubject(topic: string, schemaText: string): string {
  const schema = JSON.parse(schemaText) as { name?: string; namespace?: string };
  const name = schema.name ?? 'record';
  return `${topic}-${name.includes('.') || schema.namespace === undefined ? name : `${schema.namespace}.${name}`}`;
}

/**
 * Encodes and decodes values of one reader schema on one topic in the Confluent wire format:
 * byte 0 = 0x00, bytes 1-4 = schema id (big-endian int32), then Avro binary. Decoding resolves
 * whatever writer schema the id names against the reader schema (avsc createResolver), so old and
 * new producers are read alike.
 */
/** What decodeAll yields for a record with no value (a tombstone), shared: most callers read the key instead. */
const EMPTY = new DecodeError('EMPTY_RECORD', 'record value is empty');

export class AvroCodec<T> {
  private readonly type: avro.Type;
  private writerId: number | null = null;
  private readonly resolvers = new Map<number, avro.Type | avro.Resolver>();
  /** where the schema is registered (TopicRecordNameStrategy) */
  readonly subject: string;

  constructor(
    private readonly registry: SchemaRegistry,
    topic: string,
    private readonly schemaText: string,
  ) {
    this.type = avro.Type.forSchema(JSON.parse(schemaText) as avro.Schema);
    this.subject = recordSubject(topic, schemaText);
  }

  /** Registers the schema (once) and returns its id. */
  async schemaId(): Promise<number> {
    if (this.writerId === null) this.writerId = await this.registry.register(this.subject, this.schemaText);
    return this.writerId;
  }

  async encode(value: T): Promise<Buffer> {
    const id = await this.schemaId();
    if (!this.type.isValid(value)) {
      const problems: string[] = [];
      this.type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
      throw new Error(`${this.subject}: value does not match the schema at ${problems.join(', ')}`);
    }
    const body = this.type.toBuffer(value);
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = MAGIC;
    out.writeInt32BE(id, 1);
    body.copy(out, 5);
    return out;
  }

  async decode(bytes: Buffer | null): Promise<{ schemaId: number; value: T }> {
    if (bytes === null || bytes.length === 0) throw new DecodeError('EMPTY_RECORD', 'record value is empty');
    if (bytes[0] !== MAGIC)
      throw new DecodeError('BAD_MAGIC_BYTE', `first byte is 0x${bytes[0].toString(16).padStart(2, '0')}, expected 0x00 (Confluent wire format)`);
    if (bytes.length < 5) throw new DecodeError('TRUNCATED', `record is ${bytes.length} bytes, shorter than the 5-byte header`);
    const id = bytes.readInt32BE(1);
    const reader = await this.readerFor(id);
    return { schemaId: id, value: this.decodeBody(bytes, id, reader) };
  }

  /**
   * Decodes a batch: each writer schema is resolved once (the only await), then every record is
   * decoded synchronously. A record that cannot be decoded yields its DecodeError in its place.
   */
  async decodeAll(values: ReadonlyArray<Buffer | null>): Promise<Array<T | DecodeError>> {
    for (const bytes of values) {
      if (bytes !== null && bytes.length >= 5 && bytes[0] === MAGIC) {
        const id = bytes.readInt32BE(1);
        if (!this.resolvers.has(id)) {
          try {
            await this.readerFor(id);
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err;
          }
        }
      }
    }
    return values.map((bytes) => {
      // a tombstone (no value): its own reading is the caller's; no error object built per record
      if (bytes === null) return EMPTY;
      try {
        return this.decodeSync(bytes);
      } catch (err) {
        if (err instanceof DecodeError) return err;
        throw err;
      }
    });
  }

  /** Decodes with a writer schema already resolved (decodeAll resolves them first). */
  private decodeSync(bytes: Buffer | null): T {
    if (bytes === null || bytes.length === 0) throw new DecodeError('EMPTY_RECORD', 'record value is empty');
    if (bytes[0] !== MAGIC)
      throw new DecodeError('BAD_MAGIC_BYTE', `first byte is 0x${bytes[0].toString(16).padStart(2, '0')}, expected 0x00 (Confluent wire format)`);
    if (bytes.length < 5) throw new DecodeError('TRUNCATED', `record is ${bytes.length} bytes, shorter than the 5-byte header`);
    const id = bytes.readInt32BE(1);
    const reader = this.resolvers.get(id);
    if (reader === undefined) throw new DecodeError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not known to the registry`);
    return this.decodeBody(bytes, id, reader);
  }

  private decodeBody(bytes: Buffer, id: number, reader: avro.Type | avro.Resolver): T {
    try {
      const body = bytes.subarray(5);
      return (reader === this.type ? this.type.fromBuffer(body) : this.type.fromBuffer(body, reader as avro.Resolver)) as T;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code: DecodeErrorCode = /truncated|trailing/i.test(message) ? 'TRUNCATED' : 'MALFORMED_AVRO';
      throw new DecodeError(code, `cannot decode Avro body (schema id ${id}): ${message}`);
    }
  }

  private async readerFor(id: number): Promise<avro.Type | avro.Resolver> {
    const cached = this.resolvers.get(id);
    if (cached) return cached;
    let text: string;
    try {
      text = await this.registry.schemaById(id);
    } catch (err) {
      if (err instanceof UnknownSchemaIdError) throw new DecodeError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not known to the registry`);
      throw err;
    }
    const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    let resolver: avro.Type | avro.Resolver;
    if (writer.equals(this.type)) resolver = this.type;
    else if (writer.name !== undefined && this.type.name !== undefined && writer.name !== this.type.name && !(this.type.aliases ?? []).includes(writer.name)) {
      // a record of another type altogether (an image-label event on the text topic, say)
      throw new DecodeError('WRONG_RECORD_TYPE', `schema id ${id} is a ${writer.name}, not a ${this.type.name} (${this.subject})`);
    } else {
      try {
        resolver = this.type.createResolver(writer);
      } catch (err) {
        throw new DecodeError('INCOMPATIBLE_SCHEMA', `writer schema ${id} cannot be read as ${this.subject}: ${(err as Error).message}`);
      }
    }
    this.resolvers.set(id, resolver);
    return resolver;
  }
}
