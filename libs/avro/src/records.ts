/**
 * TypeScript shapes of the model and operations records in schemas/ (latest versions). The
 * events of each stream are typed in its own folder (libs/pipeline/src/streams/).
 */

/**
 * What a vector embeds: one of the symbols of the EntityKind enum of schemas/embedding-record
 * (WORD, LABEL, IMAGE). Streams declare the kinds they publish, and the topic catalogue checks
 * each against the schema at start (a new kind is a new schema version).
 */
export type EntityKind = string;

export interface EmbeddingRecord {
  kind: EntityKind;
  id: string;
  dim: number;
  vector: Buffer;
  version: number;
  updatedAt: number;
  /** LABEL: the bias (score = image · label + bias); 0 otherwise */
  bias: number;
  /** LABEL: synthesised from its words, no image event has carried it (v3; absent: false) */
  zeroShot?: boolean;
}

export interface SnapshotChunk {
  version: number;
  chunk: number;
  kind: EntityKind;
  dim: number;
  ids: string[];
  vectors: Buffer;
  /** LABEL chunks: one float32 bias per id (little-endian); empty when every bias is 0 */
  biases: Buffer;
  /** delta versions: ids of this kind deleted since the version before (empty in whole versions) */
  deleted: string[];
  /** LABEL chunks: the ids that are zero-shot labels (v4; absent: none) */
  zeroShot?: string[];
}

/** One version of a delta's chain: where its chunks are, and their checksums. */
export interface SnapshotLink {
  version: number;
  chunks: number;
  checksums: number[];
  chunkOffsets: number[];
}

export interface SnapshotManifest {
  version: number;
  createdAt: number;
  chunks: number;
  checksums: number[];
  counts: Record<string, number>;
  dim: number;
  eventTimeHighWatermark: number;
  /** offset of each chunk in partition 0 of the snapshot topic (empty before manifest v2) */
  chunkOffsets: number[];
  /** the next model-update offset not read per partition ("0", "1", ...) when the version was cut (empty before v3) */
  updateOffsets: Record<string, number>;
  /** 0: a whole version; else the whole version this delta builds on (v4) */
  base: number;
  /** a delta: the versions to apply before its own chunks, the base first (v4) */
  chain: SnapshotLink[];
}

export interface DeadLetter {
  originalValue: Buffer | null;
  originalKey: Buffer | null;
  topic: string;
  partition: number;
  offset: number;
  error: string;
  errorCode: string;
  service: string;
  rejectedAt: number;
  /** the value (or key) holds only its first bytes: whole it would not fit a message */
  truncated: boolean;
  /** bytes of the original value (-1: a tombstone, or a dead letter from before v2) */
  originalSize: number;
  /** CRC-32 of the whole original value (-1 likewise) */
  originalCrc: number;
}

/** Little-endian float32 bytes of a vector (the layout the schemas document). */
export function vectorToBytes(v: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeFloatLE(v[i], i * 4);
  return out;
}

export function bytesToVector(b: Buffer, dim: number): Float32Array {
  if (b.length !== dim * 4) throw new Error(`vector bytes: expected ${dim * 4}, got ${b.length}`);
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = b.readFloatLE(i * 4);
  return v;
}
