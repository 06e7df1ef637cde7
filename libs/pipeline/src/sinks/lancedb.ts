import { bytesToVector, type EmbeddingRecord } from '@freshet/avro';
import type { Connection, Table } from '@lancedb/lancedb';
import type { ModelVersion, SnapshotSink, VersionReceipt } from './sink.js';

/** A row of a LanceDB table: one entity's latest vector. */
interface Row extends Record<string, unknown> {
  id: string;
  vector: Float32Array;
  bias: number;
  version: number;
  updatedAt: number;
}

/** An id inside a SQL string literal (LanceDB's filter language). */
const quoted = (id: string): string => `'${id.replace(/'/g, "''")}'`;

/**
 * Every version into LanceDB (an embedded vector database: a folder of Lance files, or object
 * storage): one table per entity kind (`word`, `label`, `image`) with columns id, vector (float32),
 * bias, version and updatedAt. Changed entities are upserted by id (merge insert), deleted ones
 * deleted; the whole state is not rewritten. Like the Qdrant, Milvus and Weaviate Kafka sinks,
 * it keeps the latest vector per id; a search index over it is LanceDB's to build
 * (`table.createIndex('vector')`). The package is loaded on first use, so services that do not
 * write to LanceDB never load its native library.
 */
export class LanceDbSink implements SnapshotSink {
  readonly name = 'lancedb';
  private db: Connection | null = null;
  private readonly tables = new Map<string, Table>();

  constructor(private readonly uri: string) {}

  async writeVersion(v: ModelVersion): Promise<VersionReceipt> {
    this.db ??= await (await import('@lancedb/lancedb')).connect(this.uri);
    const byKind = new Map<string, Row[]>();
    let bytes = 0;
    for (const r of v.changed) {
      const rows = byKind.get(r.kind) ?? [];
      rows.push(rowOf(r));
      byKind.set(r.kind, rows);
      bytes += r.vector.length;
    }
    for (const [kind, rows] of byKind) {
      const table = await this.table(kind, rows);
      if (table !== null) await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    }
    const deletedByKind = new Map<string, string[]>();
    for (const d of v.deleted) deletedByKind.set(d.kind, [...(deletedByKind.get(d.kind) ?? []), d.id]);
    for (const [kind, ids] of deletedByKind) {
      const table = await this.table(kind, []);
      // in slices: a filter of a million ids would be one huge statement
      for (let i = 0; table !== null && i < ids.length; i += 500)
        await table.delete(
          `id IN (${ids
            .slice(i, i + 500)
            .map(quoted)
            .join(', ')})`,
        );
    }
    return { chunks: 0, bytes };
  }

  /** The kind's table; created with its first rows (then null: they are in), or null when there is none and nothing to create it with. */
  private async table(kind: string, firstRows: Row[]): Promise<Table | null> {
    const name = kind.toLowerCase();
    const known = this.tables.get(name);
    if (known !== undefined) return known;
    const db = this.db as Connection;
    if ((await db.tableNames()).includes(name)) {
      const t = await db.openTable(name);
      this.tables.set(name, t);
      return t;
    }
    if (firstRows.length === 0) return null;
    this.tables.set(name, await db.createTable(name, firstRows));
    return null;
  }

  async close(): Promise<void> {
    for (const t of this.tables.values()) t.close();
    this.db?.close();
  }
}

function rowOf(r: EmbeddingRecord): Row {
  return { id: r.id, vector: bytesToVector(r.vector, r.dim), bias: r.bias, version: r.version, updatedAt: r.updatedAt };
}
