import { loadCorpusSentences, readImageLabelFile } from '@freshet/datasets';
import { commonOptions, feedEvents, imageLabelSource, schemaRegistryFromOptions, textWindowSource, toWindows } from '@freshet/pipeline';
import { Rng } from '@freshet/core';
import { bool, list, num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { connectKafka } from './kafka.js';
import { Progress } from './progress.js';

export const feedOptions: OptionSpec[] = [
  ...commonOptions.filter((o) => !o.name.startsWith('http-')),
  { name: 'images', kind: 'string', help: 'image_id<TAB>label label ... file to send as image-label events' },
  { name: 'corpus', kind: 'list', help: 'text corpora to send as text windows: sotu, moby-dick, wordnet-glosses or file paths' },
  { name: 'window-tokens', kind: 'number', integer: true, min: 1, default: 24, help: 'tokens per text window' },
  { name: 'rate', kind: 'number', min: 0, default: 0, help: 'events per second (0: as fast as Kafka takes them)' },
  { name: 'limit', kind: 'number', integer: true, min: 0, default: 0, help: 'send at most this many events of each kind (0: all)' },
  { name: 'shuffle', kind: 'boolean', default: false, help: 'send the images in a random order (from --seed) instead of the file order' },
  { name: 'seed', kind: 'number', integer: true, default: 1, help: 'random seed (--shuffle)' },
];

/** The feeder: produces raw events from files into Kafka at a chosen rate. */
export async function feed(v: OptionValues): Promise<Record<string, unknown>> {
  const limit = num(v, 'limit');
  const cut = <T>(xs: T[]): T[] => (limit > 0 ? xs.slice(0, limit) : xs);
  const imagesFile = str(v, 'images');
  const images = imagesFile ? cut(readImageLabelFile(imagesFile)) : [];
  if (bool(v, 'shuffle')) new Rng(num(v, 'seed')).shuffle(images);
  const corpus = list(v, 'corpus');
  const windows = cut(corpus.flatMap((c) => toWindows(c, loadCorpusSentences([c]), num(v, 'window-tokens'))));
  if (images.length + windows.length === 0) throw new Error('nothing to send: give --images FILE and/or --corpus NAMES');
  const { transport, topics } = await connectKafka(v, 'feeder');
  const registry = schemaRegistryFromOptions(v, process.env);
  const sources = [imageLabelSource(images), textWindowSource(windows)].filter((s) => s.count > 0);
  const raw = sources.map((s) => topics.raw(s.stream));
  // the raw topics with the partitions the services would give them, if they do not exist yet
  const admin = await transport.admin();
  await admin.createTopics(topics.specs(num(v, 'partitions')).filter((t) => raw.includes(t.topic)));
  await admin.close();
  const progress = new Progress('feed', images.length + windows.length);
  const r = await feedEvents(transport, registry, topics, { sources, rate: num(v, 'rate'), onProgress: (sent) => progress.update(sent) });
  progress.finish();
  return {
    command: 'feed',
    images: images.length,
    windows: windows.length,
    sent: r.sent,
    seconds: r.seconds,
    eventsPerSecond: r.sent / Math.max(r.seconds, 1e-9),
    topics: raw,
  };
}
