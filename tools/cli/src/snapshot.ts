import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STREAMS, SnapshotReader, TopicCatalogue, commonOptions, schemaRegistryFromOptions, type AssembledSnapshot } from '@freshet/pipeline';
import { list, num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { connectKafka } from './kafka.js';
import { assertWritable } from './files.js';
import { writeWord2VecText } from './word2vec-format.js';

const kafkaOptions = commonOptions.filter((o) => !o.name.startsWith('http-') && o.name !== 'partitions' && o.name !== 'producer-compression');

export const snapshotOptions: OptionSpec[] = [
  ...kafkaOptions,
  { name: 'neighbours', kind: 'list', default: '', help: 'words whose nearest words to print (cosine)' },
  { name: 'labels-of', kind: 'list', default: '', help: 'image ids whose top labels to print (score = image · label + bias)' },
  { name: 'count', kind: 'number', integer: true, min: 1, max: 1000, default: 8, help: 'neighbours and labels per query' },
  { name: 'kind', kind: 'string', default: 'WORD', choices: STREAMS.flatMap((s) => s.kinds), help: 'which vectors the exports write' },
  { name: 'export-word2vec', kind: 'string', help: 'write the vectors of --kind in the word2vec text format (gensim loads it)' },
  {
    name: 'export-npy',
    kind: 'string',
    help: 'write the vectors of --kind to this folder as vectors.npy (float32, n x dim), names.txt and, for labels, biases.npy',
  },
];

/** A reader holding the latest snapshot from Kafka (its `current` is null when none was published), with the options' Kafka settings. */
export async function latestSnapshot(v: OptionValues): Promise<SnapshotReader> {
  const { transport, topics } = await connectKafka(v, 'snapshot-reader', (t) => [t.snapshotManifests, t.snapshots]);
  const reader = new SnapshotReader(transport, schemaRegistryFromOptions(v, process.env), topics, 'unused');
  await reader.loadLatest();
  return reader;
}

/** Ids a query named that the snapshot does not hold, said on stderr as well as in the result. */
function unknownIds(snap: AssembledSnapshot, kind: string, ids: readonly string[]): string[] {
  const vocab = snap.tables.get(kind)?.vocab;
  const unknown = ids.filter((id) => vocab === undefined || vocab.idOf(id) < 0);
  if (unknown.length > 0)
    process.stderr.write(`freshet snapshot: version ${snap.version} holds no ${kind} ${unknown.map((x) => JSON.stringify(x)).join(', ')}\n`);
  return unknown;
}

/** `freshet snapshot`: what the published model holds, queries, and exports. */
export async function snapshot(v: OptionValues): Promise<Record<string, unknown>> {
  const kind = str(v, 'kind') ?? 'WORD';
  const w2v = str(v, 'export-word2vec');
  const npy = str(v, 'export-npy');
  if (w2v !== undefined) assertWritable(w2v);
  const t0 = performance.now();
  const reader = await latestSnapshot(v);
  const seconds = (performance.now() - t0) / 1000;
  const snap = reader.current;
  if (snap === null)
    throw new Error(
      `no complete snapshot on ${new TopicCatalogue(str(v, 'topic-prefix') ?? '').snapshotManifests} yet: is the publisher running, and has the trainer applied anything?`,
    );
  const count = num(v, 'count');
  // an id the snapshot does not hold answers null (not an empty list) and is named
  const unknownWords = unknownIds(snap, 'WORD', list(v, 'neighbours'));
  const unknownImages = unknownIds(snap, 'IMAGE', list(v, 'labels-of'));
  const neighbours = Object.fromEntries(list(v, 'neighbours').map((w) => [w, unknownWords.includes(w) ? null : reader.nearest('WORD', w, 'WORD', count)]));
  const labelsOf = Object.fromEntries(list(v, 'labels-of').map((i) => [i, unknownImages.includes(i) ? null : reader.nearest('IMAGE', i, 'LABEL', count)]));
  const table = snap.tables.get(kind);
  if ((w2v !== undefined || npy !== undefined) && table === undefined) throw new Error(`the snapshot holds no ${kind} vectors`);
  if (table !== undefined && w2v !== undefined) await writeWord2VecText(w2v, table.vocab, table.vectors);
  if (table !== undefined && npy !== undefined) {
    mkdirSync(npy, { recursive: true });
    writeFileSync(
      join(npy, 'vectors.npy'),
      npyBytes(table.vectors.data.subarray(0, table.vocab.size * table.vectors.cols), [table.vocab.size, table.vectors.cols]),
    );
    writeFileSync(join(npy, 'names.txt'), table.vocab.allNames().join('\n') + '\n');
    if (kind === 'LABEL') writeFileSync(join(npy, 'biases.npy'), npyBytes(table.biases, [table.biases.length]));
  }
  return {
    command: 'snapshot',
    version: snap.version,
    createdAt: new Date(snap.createdAt).toISOString(),
    ageSeconds: (Date.now() - snap.createdAt) / 1000,
    eventTimeHighWatermark: snap.eventTimeHighWatermark > 0 ? new Date(snap.eventTimeHighWatermark).toISOString() : null,
    counts: Object.fromEntries([...snap.tables].map(([k, t]) => [k, t.vocab.size])),
    readSeconds: seconds,
    neighbours,
    labelsOf,
    ...(unknownWords.length + unknownImages.length > 0 ? { unknown: { words: unknownWords, images: unknownImages } } : {}),
    ...(w2v !== undefined ? { exportedWord2vec: w2v } : {}),
    ...(npy !== undefined ? { exportedNpy: npy } : {}),
  };
}

/** A NumPy .npy (format 1.0) of little-endian float32 values with the given shape. */
export function npyBytes(values: Float32Array, shape: number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + values.length * 4);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], 10 + header.length + i * 4);
  return out;
}
