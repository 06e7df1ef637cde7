import { AvroCodec, SchemaSet, type DeadLetter, type EmbeddingRecord, type SchemaRegistry, type SnapshotChunk, type SnapshotManifest } from '@freshet/avro';
import type { TopicSpec } from '@freshet/transport';
import { STREAMS } from './streams/index.js';
import type { AnyStream, StreamDefinition, StreamEvent } from './streams/stream.js';

/** The topics that are not a stream's: what ingest rejects, and the model on its way downstream. */
const MODEL_TOPICS = {
  deadLetters: 'freshet.dead-letters',
  modelUpdates: 'freshet.model-updates',
  embeddingsLatest: 'freshet.embeddings.latest',
  snapshots: 'freshet.embeddings.snapshots',
  /** compacted: the latest snapshot manifest under the key 'latest' */
  snapshotManifests: 'freshet.embeddings.manifests',
} as const;

/**
 * Every topic once, derived from the stream registry: each stream's raw topic
 * (`freshet.raw.<stream>`, written by producers) and training topic (`freshet.train.<stream>`,
 * written by ingest), and the model topics. Names carry the deployment's prefix; how each is
 * created (partitions, compaction) is said here too. The entity kinds every stream publishes are
 * checked against the embedding schema's enum when the catalogue is made.
 */
export class TopicCatalogue {
  readonly deadLetters: string;
  readonly modelUpdates: string;
  readonly embeddingsLatest: string;
  readonly snapshots: string;
  readonly snapshotManifests: string;
  readonly schemas: SchemaSet;

  constructor(
    readonly prefix = '',
    readonly streams: readonly AnyStream[] = STREAMS,
    schemas: SchemaSet = SchemaSet.load(),
  ) {
    this.schemas = schemas;
    this.deadLetters = prefix + MODEL_TOPICS.deadLetters;
    this.modelUpdates = prefix + MODEL_TOPICS.modelUpdates;
    this.embeddingsLatest = prefix + MODEL_TOPICS.embeddingsLatest;
    this.snapshots = prefix + MODEL_TOPICS.snapshots;
    this.snapshotManifests = prefix + MODEL_TOPICS.snapshotManifests;
    const names = new Set<string>();
    const kinds = new Map<string, string>();
    const known = schemas.enumSymbols('embedding-record', 'kind');
    for (const s of streams) {
      if (names.has(s.name)) throw new Error(`two streams are named ${s.name}`);
      names.add(s.name);
      schemas.file(s.schema);
      for (const k of s.kinds) {
        if (!known.includes(k))
          throw new Error(
            `stream ${s.name} publishes ${k} vectors, which schemas/embedding-record's EntityKind enum lacks (${known.join(', ')}): add the symbol in a new schema version`,
          );
        const other = kinds.get(k);
        if (other !== undefined) throw new Error(`streams ${other} and ${s.name} both publish ${k} vectors`);
        kinds.set(k, s.name);
      }
    }
  }

  raw(stream: string | AnyStream): string {
    return `${this.prefix}freshet.raw.${this.stream(stream).name}`;
  }

  train(stream: string | AnyStream): string {
    return `${this.prefix}freshet.train.${this.stream(stream).name}`;
  }

  stream(which: string | AnyStream): AnyStream {
    const name = typeof which === 'string' ? which : which.name;
    const s = this.streams.find((x) => x.name === name);
    if (s === undefined) throw new Error(`no stream ${name} (streams: ${this.streams.map((x) => x.name).join(', ')})`);
    return s;
  }

  /** The stream whose raw or training topic this is. */
  streamOf(topic: string): AnyStream | undefined {
    return this.streams.find((s) => this.raw(s) === topic || this.train(s) === topic);
  }

  /** Every entity kind the model publishes, stream by stream. */
  get kinds(): string[] {
    return this.streams.flatMap((s) => [...s.kinds]);
  }

  /** How each topic is created if missing: streams and model updates partitioned, the rest as their readers need. */
  specs(partitions: number): TopicSpec[] {
    return [
      ...this.streams.flatMap((s) => [
        { topic: this.raw(s), partitions },
        { topic: this.train(s), partitions },
      ]),
      { topic: this.deadLetters, partitions: 1 },
      { topic: this.modelUpdates, partitions },
      { topic: this.embeddingsLatest, partitions, compacted: true },
      { topic: this.snapshots, partitions: 1 },
      { topic: this.snapshotManifests, partitions: 1, compacted: true },
    ];
  }

  /** Every schema version's text: a local registry preloaded with them decodes old writers too. */
  schemaTexts(): string[] {
    return this.schemas.texts();
  }
}

/**
 * The codecs of one process, each made once: one per (topic, record type), registered under
 * that topic's subject, every schema text from the catalogue's set.
 */
export class Codecs {
  private readonly made = new Map<string, AvroCodec<unknown>>();

  constructor(
    readonly registry: SchemaRegistry,
    readonly topics: TopicCatalogue,
  ) {}

  private get<T>(topic: string, schema: string): AvroCodec<T> {
    const key = `${topic}\n${schema}`;
    let codec = this.made.get(key);
    if (codec === undefined) {
      codec = new AvroCodec<unknown>(this.registry, topic, this.topics.schemas.text(schema));
      this.made.set(key, codec);
    }
    return codec as AvroCodec<T>;
  }

  /** A stream's events on its raw topic. */
  raw<E extends StreamEvent>(stream: StreamDefinition<E>): AvroCodec<E> {
    return this.get<E>(this.topics.raw(stream.name), stream.schema);
  }

  /** A stream's normalised events on its training topic. */
  train<E extends StreamEvent>(stream: StreamDefinition<E>): AvroCodec<E> {
    return this.get<E>(this.topics.train(stream.name), stream.schema);
  }

  deadLetters(): AvroCodec<DeadLetter> {
    return this.get(this.topics.deadLetters, 'dead-letter');
  }

  modelUpdates(): AvroCodec<EmbeddingRecord> {
    return this.get(this.topics.modelUpdates, 'embedding-record');
  }

  latest(): AvroCodec<EmbeddingRecord> {
    return this.get(this.topics.embeddingsLatest, 'embedding-record');
  }

  chunks(): AvroCodec<SnapshotChunk> {
    return this.get(this.topics.snapshots, 'snapshot-chunk');
  }

  /** Manifests on the snapshot topic, after their chunks. */
  manifests(): AvroCodec<SnapshotManifest> {
    return this.get(this.topics.snapshots, 'snapshot-manifest');
  }

  /** The newest manifest on the compacted manifests topic. */
  pointer(): AvroCodec<SnapshotManifest> {
    return this.get(this.topics.snapshotManifests, 'snapshot-manifest');
  }
}
