import { crc32 } from 'node:zlib';
import { DecodeError, type AvroCodec, type SchemaRegistry, type SnapshotChunk, type SnapshotManifest } from '@freshet/avro';
import { Matrix, Vocabulary, nearest, rowNorms, type Neighbour } from '@freshet/core';
import type { Consumer, Transport } from '@freshet/transport';
import { Codecs, type TopicCatalogue } from '../catalogue.js';
import { readRange, readToEnd } from '../read-to-end.js';
import { chunkBiases, chunkVectors } from '../sinks/kafka-snapshots.js';

/** One assembled, consistent snapshot version. */
export interface AssembledSnapshot {
  version: number;
  createdAt: number;
  eventTimeHighWatermark: number;
  tables: Map<string, SnapshotTable>;
}

/** One entity kind of a snapshot: names, vectors and (labels) biases. */
export interface SnapshotTable {
  vocab: Vocabulary;
  vectors: Matrix;
  /** per row: the label bias (score of a label for an image = image · label + bias); zeros otherwise */
  biases: Float32Array;
}

/**
 * The downstream consumer: reads the snapshot topic, buffers chunks per version, and switches to
 * a version only when its manifest has arrived and every chunk it lists is present with the
 * listed CRC-32. Answers nearest-neighbour and top-k-label queries on the current version.
 */
export class SnapshotReader {
  private consumer: Consumer | null = null;
  private readonly buffers = new Map<number, Map<number, { value: Buffer; chunk: SnapshotChunk }>>();
  current: AssembledSnapshot | null = null;
  /** versions whose manifest arrived but whose chunks were missing or damaged */
  rejectedVersions: number[] = [];
  /** records of the snapshot or manifests topic that could not be decoded (a version missing a chunk is then never assembled) */
  undecodable = 0;
  /** next offset to read per partition of the snapshot topic (what it has taken in) */
  readonly readTo = new Map<number, number>();
  private readonly chunkCodec: AvroCodec<SnapshotChunk>;
  private readonly manifestCodec: AvroCodec<SnapshotManifest>;
  private readonly pointerCodec: AvroCodec<SnapshotManifest>;

  constructor(
    private readonly transport: Transport,
    registry: SchemaRegistry,
    private readonly topics: TopicCatalogue,
    private readonly groupId: string,
  ) {
    const codecs = new Codecs(registry, topics);
    this.chunkCodec = codecs.chunks();
    this.manifestCodec = codecs.manifests();
    this.pointerCodec = codecs.pointer();
  }

  /**
   * The latest complete snapshot, without scanning the snapshot topic: the compacted manifests
   * topic holds the newest manifest under 'latest', and its chunk offsets say exactly which
   * records of the snapshot topic to read. Null when nothing was published yet.
   */
  async loadLatest(): Promise<AssembledSnapshot | null> {
    let latest: SnapshotManifest | null = null;
    await readToEnd(this.transport, this.topics.snapshotManifests, async (r) => {
      if (r.key?.toString() !== 'latest' || r.value === null) return;
      try {
        latest = (await this.pointerCodec.decode(r.value)).value;
      } catch (err) {
        // a pointer that cannot be read is passed over: the one before it still names a whole version
        if (!(err instanceof DecodeError)) throw err;
        this.undecodable++;
      }
    });
    const manifest = latest as SnapshotManifest | null;
    if (manifest === null || manifest.chunkOffsets.length !== manifest.chunks) return null;
    if (manifest.chunks > 0) {
      const records = await readRange(this.transport, this.topics.snapshots, 0, Math.min(...manifest.chunkOffsets), Math.max(...manifest.chunkOffsets));
      for (const r of records) if (r.key?.toString() === `v${manifest.version}`) await this.accept(r.key.toString(), r.value);
    }
    this.complete(manifest);
    return this.current?.version === manifest.version ? this.current : null;
  }

  async start(): Promise<void> {
    this.consumer = await this.transport.consumer({ groupId: this.groupId, topics: [this.topics.snapshots], fromBeginning: true });
    void this.consumer.run(async (batch) => {
      for (const r of batch.records) await this.accept(r.key?.toString() ?? '', r.value);
      this.readTo.set(batch.partition, batch.nextOffset);
    });
  }

  /** Feeds one record of the snapshot topic (exposed for tests and other transports); one that cannot be decoded is counted and passed over. */
  async accept(key: string, value: Buffer | null): Promise<void> {
    try {
      await this.acceptDecoded(key, value);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.undecodable++;
    }
  }

  private async acceptDecoded(key: string, value: Buffer | null): Promise<void> {
    if (value === null) return;
    if (key === 'manifest') {
      const manifest = (await this.manifestCodec.decode(value)).value;
      this.complete(manifest);
      return;
    }
    const chunk = (await this.chunkCodec.decode(value)).value;
    let chunks = this.buffers.get(chunk.version);
    if (!chunks) {
      chunks = new Map();
      this.buffers.set(chunk.version, chunks);
    }
    chunks.set(chunk.chunk, { value, chunk });
  }

  private complete(manifest: SnapshotManifest): void {
    const chunks = this.buffers.get(manifest.version) ?? new Map<number, { value: Buffer; chunk: SnapshotChunk }>();
    for (let i = 0; i < manifest.chunks; i++) {
      const c = chunks.get(i);
      if (!c || crc32(c.value) !== manifest.checksums[i]) {
        this.rejectedVersions.push(manifest.version);
        return;
      }
    }
    const tables = new Map<string, SnapshotTable>();
    const biases = new Map<string, number[]>();
    for (let i = 0; i < manifest.chunks; i++) {
      const { chunk } = chunks.get(i) as { chunk: SnapshotChunk };
      let table = tables.get(chunk.kind);
      if (!table) {
        table = { vocab: new Vocabulary(), vectors: new Matrix(chunk.dim, 0), biases: new Float32Array(0) };
        tables.set(chunk.kind, table);
        biases.set(chunk.kind, []);
      }
      const vectors = chunkVectors(chunk);
      const b = chunkBiases(chunk);
      for (let j = 0; j < chunk.ids.length; j++) {
        table.vocab.add(chunk.ids[j]);
        const row = table.vectors.addRows(1);
        table.vectors.data.set(vectors[j], row * chunk.dim);
        biases.get(chunk.kind)?.push(b[j]);
      }
    }
    for (const [kind, table] of tables) table.biases = Float32Array.from(biases.get(kind) ?? []);
    this.current = { version: manifest.version, createdAt: manifest.createdAt, eventTimeHighWatermark: manifest.eventTimeHighWatermark, tables };
    // older partial versions can never complete now
    for (const v of [...this.buffers.keys()]) if (v <= manifest.version) this.buffers.delete(v);
  }

  /**
   * Nearest entities of kind `to` to an entity of kind `from`: by cosine within a kind; across
   * kinds (labels of an image) by the model's score, inner product plus the label's bias.
   */
  nearest(from: string, id: string, to: string, count: number): Array<{ id: string; score: number }> {
    const src = this.current?.tables.get(from);
    const dst = this.current?.tables.get(to);
    if (!src || !dst) return [];
    const row = src.vocab.idOf(id);
    if (row < 0) return [];
    const query = src.vectors.row(row);
    const byCosine = from === to;
    const hits: Neighbour[] = nearest(
      query,
      dst.vectors,
      count,
      byCosine ? rowNorms(dst.vectors) : null,
      (r) => byCosine && r === row,
      byCosine ? undefined : dst.biases,
    );
    return hits.map((h) => ({ id: dst.vocab.nameOf(h.id), score: h.score }));
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
  }
}
