import type { AvroCodec, EntityKind } from '@freshet/avro';
import type { AnySetting, Logger, Registry, SettingsOf, SettingsTable } from '@freshet/runtime';
import type { IngestLimits, Normalised } from '../ingest/checks.js';
import type { ThreadedLearner } from '../trainer/learner.js';

/** What every event of every stream carries: when it happened (ms since the epoch, UTC). */
export interface StreamEvent {
  eventTime: number;
}

/** Events of one stream to feed: `count` of them, the i-th made when it is sent (its event time is then). */
export interface FeedSource<E extends StreamEvent = StreamEvent> {
  stream: string;
  count: number;
  event(i: number, now: number): E;
}

/** What a stream's learner is built with. */
export interface LearnerContext<E, S> {
  /** its stream's name: the label of its metrics and its part of every checkpoint */
  stream: string;
  /** the training topic it consumes */
  topic: string;
  /** its events' codec on that topic */
  codec: AvroCodec<E>;
  /** its settings (the stream's table, resolved) */
  settings: S;
  metrics: Registry;
  logger: Logger;
  /** SGD worker threads the trainer runs (each kernel reserves one instance per worker, plus its own) */
  threads: number;
  seed: number;
}

/**
 * A stream: one kind of event, from its raw topic through ingest to its learner. Everything a
 * stream is lives in its folder (streams/<name>/) and is declared here; ingest, the trainer, the
 * publisher, the topic catalogue and the feeder iterate the registry (streams/index.ts) and know
 * no stream by name. Adding one is a schema file, a folder and a line in the registry.
 */
export interface StreamDefinition<
  E extends StreamEvent = StreamEvent,
  L extends Record<string, AnySetting> = Record<string, AnySetting>,
  S extends Record<string, AnySetting> = Record<string, AnySetting>,
> {
  /** one name across topics, options, metrics and checkpoints (`image-labels`) */
  readonly name: string;
  /** what it carries, for --help and docs */
  readonly summary: string;
  /** its event schema in schemas/ (raw and training topics carry the same record type) */
  readonly schema: string;
  /** the entity kinds its learner publishes (symbols of embedding-record's EntityKind enum) */
  readonly kinds: readonly EntityKind[];
  /** the id its training records are keyed by: one entity's events stay in one partition, in order */
  key(event: E): string;
  /** ingest's limits for its events (flags of the ingest service) */
  readonly limits: SettingsTable<L>;
  /** ingest's check and clean-up of one event; `limits` holds every stream's and the common ones */
  normalise(event: E, limits: IngestLimits, now: number): Normalised<E>;
  /** its learner's settings (flags of the trainer service) */
  readonly settings: SettingsTable<S>;
  createLearner(context: LearnerContext<E, SettingsOf<S>>): ThreadedLearner;
}

/** A stream of any event type, as the registry holds them. */
export type AnyStream = StreamDefinition<StreamEvent, Record<string, AnySetting>, Record<string, AnySetting>>;
