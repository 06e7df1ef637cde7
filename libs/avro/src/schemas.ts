import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

/** One .avsc file: `<name>.v<version>.avsc`. */
export interface SchemaFile {
  /** file stem without the version, e.g. image-label-event */
  name: string;
  version: number;
  /** the file's text: what gets registered (avsc's type.schema() would drop logicalType) */
  text: string;
  type: avro.Type;
}

/** The repository's schemas/ folder (from libs/avro/{src,dist}). */
export function defaultSchemaDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'schemas');
}

export function loadSchemaFiles(dir = defaultSchemaDir()): SchemaFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.avsc'));
  return files
    .map((f) => {
      const m = /^(.+)\.v(\d+)\.avsc$/.exec(f);
      if (!m) throw new Error(`schema file ${f} must be named <name>.v<N>.avsc`);
      const text = readFileSync(join(dir, f), 'utf8');
      return { name: m[1], version: Number(m[2]), text, type: avro.Type.forSchema(JSON.parse(text) as avro.Schema) };
    })
    .sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
}

/** The newest version of each schema name. */
export function latestSchemas(files: readonly SchemaFile[]): Map<string, SchemaFile> {
  const latest = new Map<string, SchemaFile>();
  for (const f of files) {
    const seen = latest.get(f.name);
    if (!seen || seen.version < f.version) latest.set(f.name, f);
  }
  return latest;
}

/**
 * The schemas of a folder, read and parsed once per process: every version (to preload a local
 * registry), the newest of each name (what our codecs write), and the symbols of an enum field
 * (the entity kinds a stream may publish must be among them).
 */
export class SchemaSet {
  private static readonly loaded = new Map<string, SchemaSet>();
  readonly latest: Map<string, SchemaFile>;

  private constructor(
    readonly dir: string,
    readonly files: readonly SchemaFile[],
  ) {
    this.latest = latestSchemas(files);
  }

  /** The schemas of one folder, or of several (a stream that lives outside schemas/ brings its own). */
  static load(dirs: string | readonly string[] = defaultSchemaDir()): SchemaSet {
    const list = typeof dirs === 'string' ? [dirs] : [...dirs];
    const key = list.join('\n');
    let set = SchemaSet.loaded.get(key);
    if (set === undefined) {
      const files = list.flatMap((d) => loadSchemaFiles(d)).sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
      set = new SchemaSet(list.join(', '), files);
      SchemaSet.loaded.set(key, set);
    }
    return set;
  }

  /** The newest version of a schema. */
  file(name: string): SchemaFile {
    const f = this.latest.get(name);
    if (f === undefined) throw new Error(`schema ${name} is missing from ${this.dir} (expected a file ${name}.v<N>.avsc)`);
    return f;
  }

  text(name: string): string {
    return this.file(name).text;
  }

  /** Every version's text (a local registry knows them all, so old writers decode). */
  texts(): string[] {
    return this.files.map((f) => f.text);
  }

  /** The symbols of the enum field `field` of the newest version of `name`. */
  enumSymbols(name: string, field: string): string[] {
    const schema = JSON.parse(this.text(name)) as { fields: Array<{ name: string; type: unknown }> };
    const type = schema.fields.find((f) => f.name === field)?.type as { type?: string; symbols?: string[] } | undefined;
    if (type?.type !== 'enum' || type.symbols === undefined) throw new Error(`schema ${name}: field ${field} is not an enum`);
    return type.symbols;
  }
}
