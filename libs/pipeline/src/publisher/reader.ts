import { DecodeError, type AvroCodec, type SchemaRegistry, type SnapshotChunk, type SnapshotManifest } from '@freshet/avro';
import { nearest, rowNorms, type Neighbour } from '@freshet/core';
import type { Consumer, Transport } from '@freshet/transport';
import { Codecs, type TopicCatalogue } from '../catalogue.js';
import { readRange, readToEnd } from '../read-to-end.js';
import { applyChunk, linksOf, toTables, verified, type Entities, type ReadChunk, type SnapshotTable } from './assembly.js';

export type { SnapshotTable } from './assembly.js';

/** One assembled, consistent snapshot version. */
export interface AssembledSnapshot {
  version: number;
  createdAt: number;
  eventTimeHighWatermark: number;
  tables: Map<string, SnapshotTable>;
}

/**
 * The downstream consumer: reads the snapshot topic, buffers chunks per version, and switches to
 * a version only when its manifest has arrived and every chunk it lists (for a delta: every chunk
 * of its chain too) is present with the listed CRC-32. A delta following the version it holds is
 * applied to it; otherwise the chain is assembled from the base. Answers nearest-neighbour and
 * top-k-label queries on the current version.
 */
export class SnapshotReader {
  private consumer: Consumer | null = null;
  private readonly buffers = new Map<number, Map<number, ReadChunk>>();
  /** the current version's entities, what a delta applies to */
  private entities: Entities = new Map();
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
      const key = r.key?.toString();
      if ((key !== 'latest' && key !== 'latest-delta') || r.value === null) return;
      try {
        // the newest whole version or delta, whichever is newer
        const m = (await this.pointerCodec.decode(r.value)).value;
        if (latest === null || m.version > latest.version) latest = m;
      } catch (err) {
        // a pointer that cannot be read is passed over: the one before it still names a whole version
        if (!(err instanceof DecodeError)) throw err;
        this.undecodable++;
      }
    });
    const manifest = latest as SnapshotManifest | null;
    if (manifest === null) return null;
    const links = linksOf(manifest);
    if (links.some((l) => l.chunkOffsets.length !== l.chunks)) return null;
    const offsets = links.flatMap((l) => l.chunkOffsets);
    if (offsets.length > 0) {
      const wanted = new Set(links.map((l) => `v${l.version}`));
      const records = await readRange(this.transport, this.topics.snapshots, 0, Math.min(...offsets), Math.max(...offsets));
      for (const r of records) if (wanted.has(r.key?.toString() ?? '')) await this.accept(r.key?.toString() ?? '', r.value);
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
    if (key === 'manifest' || key === 'delta') {
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
    const links = linksOf(manifest);
    const previous = links.length > 1 ? links[links.length - 2].version : -1;
    // a delta on the version held: its own chunks are all it takes
    const incremental = manifest.base > 0 && this.current?.version === previous;
    const parts: ReadChunk[][] = [];
    for (const link of incremental ? links.slice(-1) : links) {
      const chunks = verified(link, this.buffers.get(link.version));
      if (chunks === null) {
        this.rejectedVersions.push(manifest.version);
        return;
      }
      parts.push(chunks);
    }
    if (!incremental) this.entities = new Map();
    for (const chunks of parts) for (const { chunk } of chunks) applyChunk(this.entities, chunk);
    this.current = {
      version: manifest.version,
      createdAt: manifest.createdAt,
      eventTimeHighWatermark: manifest.eventTimeHighWatermark,
      tables: toTables(this.entities),
    };
    // older partial versions can never complete now, and a later delta builds on the entities held
    for (const v of [...this.buffers.keys()]) if (v <= manifest.version) this.buffers.delete(v);
  }

  /**
   * Nearest entities of kind `to` to an entity of kind `from`: by cosine within a kind; across
   * kinds (labels of an image) by the model's score, inner product plus the label's bias. Zero-shot
   * labels are marked `zeroShot: true`.
   */
  nearest(from: string, id: string, to: string, count: number): Array<{ id: string; score: number; zeroShot?: true }> {
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
    // a zero-shot label says so (the field is absent on learned rows, as on the wire's older versions)
    return hits.map((h) => {
      const name = dst.vocab.nameOf(h.id);
      return dst.zeroShot.has(name) ? { id: name, score: h.score, zeroShot: true } : { id: name, score: h.score };
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
  }
}
