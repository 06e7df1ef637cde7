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
