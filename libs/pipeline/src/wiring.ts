import type { SchemaRegistry } from '@freshet/avro';
import type { Logger, Registry } from '@freshet/runtime';
import type { Transport } from '@freshet/transport';
import type { TopicCatalogue } from './catalogue.js';

/** What every processor (ingest, trainer, publisher) is wired with. */
export interface ProcessorWiring {
  transport: Transport;
  registry: SchemaRegistry;
  /** every topic, and the streams they belong to */
  topics: TopicCatalogue;
  groupId: string;
  logger: Logger;
  metrics: Registry;
  /**
   * The processor cannot go on (its consumer stopped for good, a training thread died, a stale
   * checkpoint under `fail`): the service exits non-zero so its supervisor restarts it, instead
   * of a live process that silently does nothing.
   */
  onFatal?: (err: Error) => void;
}
