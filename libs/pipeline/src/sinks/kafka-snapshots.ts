import { crc32 } from 'node:zlib';
import { bytesToVector, type SnapshotChunk, type SnapshotLink, type SnapshotManifest } from '@freshet/avro';
import type { OutgoingRecord, Producer } from '@freshet/transport';
import type { Codecs } from '../catalogue.js';
import { entityKey } from './keys.js';
import type { ModelVersion, RowChunk, SnapshotSink, VersionReceipt } from './sink.js';

/** Latest-vector records per send (about 300 KB at dimension 64: under the transport's request size) and sends in flight. */
const LATEST_PER_SEND = 1000;
const LATEST_IN_FLIGHT = 3;

/** When a delta chain ends and a whole version is written again. */
export interface ChainLimits {
  /** deltas after a whole version, at most */
  maxDeltas: number;
  /** a whole version at least this often (ms): the snapshot topic's retention must keep it and its chain */
  baseEveryMs: number;
  /** the chain's bytes, at most this share of the whole version's (beyond it a reader reads more than a whole version) */
  maxDeltaBytes: number;
}

/**
 * A version on the Kafka topics (docs/wire-format.md): the changed vectors on the compacted
 * latest-vector topic (stamped with the version, a tombstone for a deleted entity), then chunks of
 * at most `chunkBytes` on partition 0 of the snapshot topic, then a manifest with the chunk count,
 * their CRC-32s and offsets, and the manifest again on the compacted manifests topic.
 *
 * A version is whole (every entity; manifest key `manifest`, pointer `latest`) or a delta (only the
 * entities changed since the version before and the ids deleted since; key `delta`, pointer
 * `latest-delta`), whose manifest names its chain: the whole version it builds on and the deltas
 * since, with their chunks' offsets and checksums. So publishing costs the changed rows, not the
 * model; a whole version is written again after `maxDeltas` deltas, when the chain's bytes pass
 * `maxDeltaBytes` of the whole's, after `baseEveryMs`, and by every publisher that starts (it does
 * not know the chain before it). A reader assembles a version only once its manifest and every
 * chunk of its chain are there intact; a reader that knows only whole versions reads `latest`.
 */
export class KafkaSnapshotSink implements SnapshotSink {
  readonly name = 'kafka';
  /** the whole version deltas build on now, and the deltas since (oldest first) */
  private chain: Array<SnapshotLink & { bytes: number }> = [];
  private baseAt = 0;

  constructor(
    private readonly producer: () => Producer | null,
    private readonly codecs: Codecs,
    private readonly chunkBytes: number,
    private readonly limits: ChainLimits = { maxDeltas: 0, baseEveryMs: 0, maxDeltaBytes: 0 },
  ) {}

  async writeVersion(v: ModelVersion): Promise<VersionReceipt> {
    const producer = this.producer();
    if (producer === null) throw new Error('kafka snapshot sink: no producer');
    const t = this.codecs.topics;
    const latestCodec = this.codecs.latest();
    const latest: OutgoingRecord[] = [];
    // sends of LATEST_PER_SEND records, a few in flight: within a version every key is sent once,
    // so their order does not matter; all are acknowledged before the manifest
    const inFlight: Array<Promise<unknown>> = [];
    const flush = async (): Promise<void> => {
      const sent = producer.send(t.embeddingsLatest, latest.splice(0));
      sent.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      inFlight.push(sent);
      if (inFlight.length >= LATEST_IN_FLIGHT) await inFlight.shift();
    };
    for (const record of v.changed) {
      latest.push({ key: Buffer.from(entityKey(record.kind, record.id)), value: await latestCodec.encode(record) });
      if (latest.length >= LATEST_PER_SEND) await flush();
    }
    // a deleted entity's tombstone: compaction removes it, and readers of the topic delete it
    for (const gone of v.deleted) {
      latest.push({ key: Buffer.from(entityKey(gone.kind, gone.id)), value: null });
      if (latest.length >= LATEST_PER_SEND) await flush();
    }
    if (latest.length > 0) await flush();
    await Promise.all(inFlight);

    const delta = this.deltaNext(v);
    const own = await this.writeChunks(producer, v.version, delta ? deltaChunks(v, this.chunkBytes) : wholeChunks(v, this.chunkBytes));
    const counts = Object.fromEntries(v.state.kinds.map((kind) => [kind, v.state.count(kind)]));
    const dim = v.state.kinds.map((kind) => v.state.dim(kind)).find((d) => d > 0) ?? 0;
    const manifest: SnapshotManifest = {
      version: v.version,
      createdAt: v.createdAt,
      chunks: own.checksums.length,
      checksums: own.checksums,
      counts,
      dim,
      eventTimeHighWatermark: v.eventTimeHighWatermark,
      chunkOffsets: own.chunkOffsets,
      updateOffsets: { ...v.updateOffsets },
      base: delta ? this.chain[0].version : 0,
      chain: delta ? this.chain.map(({ version, chunks, checksums, chunkOffsets }) => ({ version, chunks, checksums, chunkOffsets })) : [],
    };
    await producer.send(t.snapshots, [{ key: Buffer.from(delta ? 'delta' : 'manifest'), value: await this.codecs.manifests().encode(manifest), partition: 0 }]);
    // the pointer readers start from: compacted, so it holds just the newest complete version of each sort
    await producer.send(t.snapshotManifests, [
      { key: Buffer.from(delta ? 'latest-delta' : 'latest'), value: await this.codecs.pointer().encode(manifest), partition: 0 },
    ]);
    const link = { version: v.version, chunks: own.checksums.length, checksums: own.checksums, chunkOffsets: own.chunkOffsets, bytes: own.bytes };
    if (delta) this.chain.push(link);
    else {
      this.chain = [link];
      this.baseAt = Date.now();
    }
    return { chunks: own.checksums.length, bytes: own.bytes, delta };
  }

  /** Whether this version can be a delta on the current chain. */
  private deltaNext(v: ModelVersion): boolean {
    const l = this.limits;
    if (this.chain.length === 0 || l.maxDeltas <= 0) return false;
    const base = this.chain[0];
    const chainBytes = this.chain.slice(1).reduce((n, c) => n + c.bytes, 0);
    const estimate = v.changed.reduce((n, r) => n + r.vector.length + r.id.length + 16, 0);
    return this.chain.length - 1 < l.maxDeltas && Date.now() - this.baseAt < l.baseEveryMs && chainBytes + estimate <= l.maxDeltaBytes * base.bytes;
  }

  /** The chunks in order on partition 0, each with its offset and checksum. */
  private async writeChunks(
    producer: Producer,
    version: number,
    parts: Iterable<KindChunk>,
  ): Promise<{ checksums: number[]; chunkOffsets: number[]; bytes: number }> {
    const chunkCodec = this.codecs.chunks();
    const out = { checksums: [] as number[], chunkOffsets: [] as number[], bytes: 0 };
    for (const part of parts) {
      const chunk: SnapshotChunk = {
        version,
        chunk: out.checksums.length,
        kind: part.kind,
        dim: part.dim,
        ids: part.rows.ids,
        vectors: part.rows.vectors,
        biases: biasBytes(part.rows.biases),
        deleted: part.deleted,
        zeroShot: part.rows.zeroShot,
      };
      const value = await chunkCodec.encode(chunk);
      const [placed] = await producer.send(this.codecs.topics.snapshots, [{ key: Buffer.from(`v${version}`), value, partition: 0 }]);
      out.chunkOffsets.push(placed.offset);
      out.checksums.push(crc32(value));
      out.bytes += value.length;
    }
    return out;
  }
}

/** One chunk's content: rows of one kind and ids of that kind deleted. */
interface KindChunk {
  kind: string;
  dim: number;
  rows: RowChunk;
  deleted: string[];
}

/** Rows per chunk of at most `chunkBytes` at dimension `dim`. */
function rowsPerChunk(chunkBytes: number, dim: number): number {
  return Math.max(1, Math.floor(chunkBytes / (dim * 4 + 64)));
}

/** A whole version: every row of every kind, read from the state chunk by chunk. */
function* wholeChunks(v: ModelVersion, chunkBytes: number): Generator<KindChunk> {
  for (const kind of v.state.kinds) {
    const dim = v.state.dim(kind);
    for (const rows of v.state.chunks(kind, rowsPerChunk(chunkBytes, dim))) yield { kind, dim, rows, deleted: [] };
  }
}

/** A delta: the changed rows and the deleted ids per kind, in chunks of at most `chunkBytes`. */
function* deltaChunks(v: ModelVersion, chunkBytes: number): Generator<KindChunk> {
  const kinds = new Set([...v.changed.map((r) => r.kind), ...v.deleted.map((d) => d.kind)]);
  for (const kind of kinds) {
    const rows = v.changed.filter((r) => r.kind === kind);
    const deleted = v.deleted.filter((d) => d.kind === kind).map((d) => d.id);
    const dim = rows[0]?.dim ?? 0;
    const perChunk = rowsPerChunk(chunkBytes, dim);
    const perDeleteChunk = Math.max(1, Math.floor(chunkBytes / 64));
    const parts = Math.max(Math.ceil(rows.length / perChunk), Math.ceil(deleted.length / perDeleteChunk));
    for (let p = 0; p < parts; p++) {
      const part = rows.slice(p * perChunk, (p + 1) * perChunk);
      yield {
        kind,
        dim,
        rows: {
          ids: part.map((r) => r.id),
          vectors: Buffer.concat(part.map((r) => r.vector)),
          biases: Float32Array.from(part, (r) => r.bias),
          zeroShot: part.filter((r) => r.zeroShot === true).map((r) => r.id),
        },
        deleted: deleted.slice(p * perDeleteChunk, (p + 1) * perDeleteChunk),
      };
    }
  }
}

/** Little-endian float32 biases, or empty when every bias is 0 (the schema's reading). */
function biasBytes(biases: Float32Array): Buffer {
  if (biases.every((b) => b === 0)) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(biases.length * 4);
  biases.forEach((b, i) => out.writeFloatLE(b, i * 4));
  return out;
}

/** A chunk's biases (zeros when the chunk carries none). */
export function chunkBiases(chunk: SnapshotChunk): Float32Array {
  const out = new Float32Array(chunk.ids.length);
  if (chunk.biases.length === chunk.ids.length * 4) for (let i = 0; i < out.length; i++) out[i] = chunk.biases.readFloatLE(i * 4);
  return out;
}

/** Decodes a chunk's vectors (for readers). */
export function chunkVectors(chunk: SnapshotChunk): Float32Array[] {
  return chunk.ids.map((_, i) => bytesToVector(chunk.vectors.subarray(i * chunk.dim * 4, (i + 1) * chunk.dim * 4), chunk.dim));
}
