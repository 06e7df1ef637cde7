import { crc32 } from 'node:zlib';
import { bytesToVector, type EmbeddingRecord, type SnapshotChunk, type SnapshotManifest } from '@freshet/avro';
import type { OutgoingRecord, Producer } from '@freshet/transport';
import type { Codecs } from '../catalogue.js';
import { entityKey } from './keys.js';
import type { ModelVersion, SnapshotSink, VersionReceipt } from './sink.js';

/**
 * A version on the Kafka topics (docs/wire-format.md): the changed vectors on the compacted
 * latest-vector topic (stamped with the version), then the whole state as chunks of at most
 * `chunkBytes` on partition 0 of the snapshot topic, then a manifest with the chunk count, their
 * CRC-32s and offsets, and the same manifest under `latest` on the compacted manifests topic. A
 * reader assembles a version only once its manifest and every chunk it lists are there intact.
 */
export class KafkaSnapshotSink implements SnapshotSink {
  readonly name = 'kafka';

  constructor(
    private readonly producer: () => Producer | null,
    private readonly codecs: Codecs,
    private readonly chunkBytes: number,
  ) {}

  async writeVersion(v: ModelVersion): Promise<VersionReceipt> {
    const producer = this.producer();
    if (producer === null) throw new Error('kafka snapshot sink: no producer');
    const t = this.codecs.topics;
    const latestCodec = this.codecs.latest();
    const latest: OutgoingRecord[] = [];
    for (const record of v.changed) {
      latest.push({ key: Buffer.from(entityKey(record.kind, record.id)), value: await latestCodec.encode(record) });
      // small sends: the publisher's event loop answers health probes in between
      if (latest.length >= 128) await producer.send(t.embeddingsLatest, latest.splice(0));
    }
    if (latest.length > 0) await producer.send(t.embeddingsLatest, latest);
    const checksums: number[] = [];
    const offsets: number[] = [];
    const counts: Record<string, number> = {};
    let dim = 0;
    let bytes = 0;
    const chunkCodec = this.codecs.chunks();
    for (const [kind, entities] of v.state) {
      const rows = [...entities.values()];
      counts[kind] = rows.length;
      if (rows.length === 0) continue;
      dim = rows[0].dim;
      const perChunk = Math.max(1, Math.floor(this.chunkBytes / (dim * 4 + 64)));
      for (let start = 0; start < rows.length; start += perChunk) {
        const part = rows.slice(start, start + perChunk);
        const chunk: SnapshotChunk = {
          version: v.version,
          chunk: checksums.length,
          kind,
          dim,
          ids: part.map((r) => r.id),
          vectors: Buffer.concat(part.map((r) => r.vector)),
          biases: biasBytes(part),
        };
        const value = await chunkCodec.encode(chunk);
        const [placed] = await producer.send(t.snapshots, [{ key: Buffer.from(`v${v.version}`), value, partition: 0 }]);
        offsets.push(placed.offset);
        checksums.push(crc32(value));
        bytes += value.length;
      }
    }
    const manifest: SnapshotManifest = {
      version: v.version,
      createdAt: v.createdAt,
      chunks: checksums.length,
      checksums,
      counts,
      dim,
      eventTimeHighWatermark: v.eventTimeHighWatermark,
      chunkOffsets: offsets,
      updateOffsets: { ...v.updateOffsets },
    };
    await producer.send(t.snapshots, [{ key: Buffer.from('manifest'), value: await this.codecs.manifests().encode(manifest), partition: 0 }]);
    // the pointer readers start from: compacted, so it holds just the newest complete version
    await producer.send(t.snapshotManifests, [{ key: Buffer.from('latest'), value: await this.codecs.pointer().encode(manifest), partition: 0 }]);
    return { chunks: checksums.length, bytes };
  }
}

/** Little-endian float32 biases of the rows, or empty when every bias is 0 (the schema's reading). */
function biasBytes(rows: readonly EmbeddingRecord[]): Buffer {
  if (rows.every((r) => r.bias === 0)) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(rows.length * 4);
  rows.forEach((r, i) => out.writeFloatLE(r.bias, i * 4));
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
