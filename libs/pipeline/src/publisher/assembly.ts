import { crc32 } from 'node:zlib';
import type { SnapshotChunk, SnapshotLink, SnapshotManifest } from '@freshet/avro';
import { Matrix, Vocabulary } from '@freshet/core';
import { chunkBiases, chunkVectors } from '../sinks/kafka-snapshots.js';

/** One entity kind of a snapshot: names, vectors and (labels) biases. */
export interface SnapshotTable {
  vocab: Vocabulary;
  vectors: Matrix;
  /** per row: the label bias (score of a label for an image = image · label + bias); zeros otherwise */
  biases: Float32Array;
  /** LABEL: the ids that are zero-shot labels (synthesised from their words; no image has carried them) */
  zeroShot: ReadonlySet<string>;
}

/** Every entity of a version by kind, as its chunks (and its chain's) add up. */
export type Entities = Map<string, { dim: number; rows: Map<string, { vector: Float32Array; bias: number; zeroShot: boolean }> }>;

/** A chunk as read: its record value (for the checksum) and what it decodes to. */
export interface ReadChunk {
  value: Buffer;
  chunk: SnapshotChunk;
}

/** The versions a manifest needs, oldest first: itself when whole; its chain (the base first) then itself when a delta. */
export function linksOf(m: SnapshotManifest): SnapshotLink[] {
  const self = { version: m.version, chunks: m.chunks, checksums: m.checksums, chunkOffsets: m.chunkOffsets };
  return m.base > 0 ? [...m.chain, self] : [self];
}

/** A link's chunks in order if every one is there with its checksum, else null. */
export function verified(link: SnapshotLink, chunks: ReadonlyMap<number, ReadChunk> | undefined): ReadChunk[] | null {
  const out: ReadChunk[] = [];
  for (let i = 0; i < link.chunks; i++) {
    const c = chunks?.get(i);
    if (c === undefined || crc32(c.value) !== link.checksums[i]) return null;
    out.push(c);
  }
  return out;
}

/** Applies one chunk: its rows replace (or add) the entities they name; its deleted ids go. */
export function applyChunk(entities: Entities, chunk: SnapshotChunk): void {
  let kind = entities.get(chunk.kind);
  if (kind === undefined || (chunk.ids.length > 0 && kind.dim !== chunk.dim)) {
    kind = { dim: chunk.dim, rows: new Map() };
    entities.set(chunk.kind, kind);
  }
  const vectors = chunkVectors(chunk);
  const biases = chunkBiases(chunk);
  const zeroShot = new Set(chunk.zeroShot ?? []);
  for (let j = 0; j < chunk.ids.length; j++) kind.rows.set(chunk.ids[j], { vector: vectors[j], bias: biases[j], zeroShot: zeroShot.has(chunk.ids[j]) });
  for (const id of chunk.deleted) kind.rows.delete(id);
}

/** The entities as query tables (a vocabulary, a matrix and biases per kind). */
export function toTables(entities: Entities): Map<string, SnapshotTable> {
  const tables = new Map<string, SnapshotTable>();
  for (const [kind, { dim, rows }] of entities) {
    const vocab = new Vocabulary();
    const vectors = new Matrix(dim, 0, { capacity: Math.max(1, rows.size) });
    const biases = new Float32Array(rows.size);
    const zeroShot = new Set<string>();
    for (const [id, r] of rows) {
      if (r.zeroShot) zeroShot.add(id);
      const row = vocab.add(id);
      vectors.addRows(1);
      vectors.data.set(r.vector, row * dim);
      biases[row] = r.bias;
    }
    tables.set(kind, { vocab, vectors, biases, zeroShot });
  }
  return tables;
}
