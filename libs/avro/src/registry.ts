import { createHash } from 'node:crypto';

/**
 * Where schema ids come from: a Confluent-compatible Schema Registry when a URL is configured,
 * otherwise a local mapping (the embedded default) that derives stable ids from the schema text.
 */
export interface SchemaRegistry {
  /** Registers (or finds) the schema under the subject and returns its global id. */
  register(subject: string, schemaText: string): Promise<number>;
  /** The schema text behind an id; rejects with UnknownSchemaIdError when there is none. */
  schemaById(id: number): Promise<string>;
}

export class UnknownSchemaIdError extends Error {
  constructor(readonly id: number) {
    super(`unknown schema id ${id}`);
  }
}

/** Canonical form for hashing: whitespace-free JSON of the parsed text, so formatting does not change ids. */
function canonical(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

/**
 * A registry in memory whose ids are a hash of the canonical schema text (31 bits, never 0), so
 * every process that knows the same .avsc files agrees on the ids without talking to anyone.
 */
export class LocalSchemaRegistry implements SchemaRegistry {
  private readonly byId = new Map<number, string>();

  static idFor(schemaText: string): number {
    const digest = createHash('sha256').update(canonical(schemaText)).digest();
    return digest.readUInt32BE(0) & 0x7fffffff || 1;
  }

  /** Pre-loads schema texts so that decoding knows their ids before anything is encoded. */
  constructor(known: readonly string[] = []) {
    for (const t of known) this.byId.set(LocalSchemaRegistry.idFor(t), t);
  }

  async register(_subject: string, schemaText: string): Promise<number> {
    const id = LocalSchemaRegistry.idFor(schemaText);
    const existing = this.byId.get(id);
    if (existing !== undefined && canonical(existing) !== canonical(schemaText)) {
      throw new Error(`local schema registry: id collision for ${id}`);
    }
    this.byId.set(id, schemaText);
    return id;
  }

  async schemaById(id: number): Promise<string> {
    const text = this.byId.get(id);
    if (text === undefined) throw new UnknownSchemaIdError(id);
    return text;
  }
}

export interface HttpRegistryOptions {
  url: string;
  /** basic auth, e.g. from env; never logged */
  username?: string;
  password?: string;
  timeoutMs?: number;
}

/** Confluent Schema Registry REST API: POST /subjects/{s}/versions, GET /schemas/ids/{id}. */
export class HttpSchemaRegistry implements SchemaRegistry {
  private readonly cache = new Map<number, string>();
  private readonly registered = new Map<string, number>();

  constructor(private readonly opts: HttpRegistryOptions) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': 'application/vnd.schemaregistry.v1+json' };
    if (this.opts.username !== undefined) {
      h.Authorization = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`;
    }
    return h;
  }

  async register(subject: string, schemaText: string): Promise<number> {
    const key = `${subject}\n${canonical(schemaText)}`;
    const known = this.registered.get(key);
    if (known !== undefined) return known;
    const res = await fetch(`${this.opts.url.replace(/\/$/, '')}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ schema: schemaText }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    if (!res.ok) throw new Error(`schema registry: registering ${subject} failed with HTTP ${res.status}: ${await res.text()}`);
    const { id } = (await res.json()) as { id: number };
    this.registered.set(key, id);
    this.cache.set(id, schemaText);
    return id;
  }

  async schemaById(id: number): Promise<string> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const res = await fetch(`${this.opts.url.replace(/\/$/, '')}/schemas/ids/${id}`, {
      headers: this.headers(),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    if (res.status === 404) throw new UnknownSchemaIdError(id);
    if (!res.ok) throw new Error(`schema registry: fetching id ${id} failed with HTTP ${res.status}`);
    const { schema } = (await res.json()) as { schema: string };
    this.cache.set(id, schema);
    return schema;
  }
}
