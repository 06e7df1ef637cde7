import { loadSchemaFiles, latestSchemas, type SchemaFile, type SchemaRegistry } from '@freshet/avro';
import type { Logger, Registry } from '@freshet/runtime';
import type { Transport } from '@freshet/transport';

/** Topic names, all configurable; these defaults are what the services, demo and tests use. */
export interface TopicNames {
  rawImageLabels: string;
  rawTextWindows: string;
  trainImageLabels: string;
  trainTextWindows: string;
  deadLetters: string;
  modelUpdates: string;
  embeddingsLatest: string;
  snapshots: string;
  /** compacted: the latest snapshot manifest under the key 'latest' */
  snapshotManifests: string;
}

export const defaultTopics: TopicNames = {
  rawImageLabels: 'freshet.raw.image-labels',
  rawTextWindows: 'freshet.raw.text-windows',
  trainImageLabels: 'freshet.train.image-labels',
  trainTextWindows: 'freshet.train.text-windows',
  deadLetters: 'freshet.dead-letters',
  modelUpdates: 'freshet.model-updates',
  embeddingsLatest: 'freshet.embeddings.latest',
  snapshots: 'freshet.embeddings.snapshots',
  snapshotManifests: 'freshet.embeddings.manifests',
};

/** The latest schema file of each record type, by name (throws if one is missing). */
export function schemaTexts(): Record<'imageLabel' | 'textWindow' | 'deadLetter' | 'embedding' | 'chunk' | 'manifest', SchemaFile> {
  const latest = latestSchemas(loadSchemaFiles());
  const get = (name: string): SchemaFile => {
    const f = latest.get(name);
    if (!f) throw new Error(`schema ${name} is missing from schemas/`);
    return f;
  };
  return {
    imageLabel: get('image-label-event'),
    textWindow: get('text-window-event'),
    deadLetter: get('dead-letter'),
    embedding: get('embedding-record'),
    chunk: get('snapshot-chunk'),
    manifest: get('snapshot-manifest'),
  };
}

/** What every processor (ingest, trainer, publisher) is wired with. */
export interface ProcessorWiring {
  transport: Transport;
  registry: SchemaRegistry;
  topics: TopicNames;
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
