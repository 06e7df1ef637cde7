import type { SchemaRegistry } from '@freshet/avro';
import type { OutgoingRecord, Transport } from '@freshet/transport';
import { Codecs, type TopicCatalogue } from './catalogue.js';
import type { FeedSource } from './streams/stream.js';

export type { FeedSource } from './streams/stream.js';

export interface FeedOptions {
  /** one source per stream (each stream's helper makes one: imageLabelSource, textWindowSource) */
  sources: readonly FeedSource[];
  /** events per second across every stream; 0 sends as fast as the transport takes them */
  rate: number;
  /** events per send call */
  batch?: number;
  onProgress?: (sent: number, total: number) => void;
  /** event time of each event (default: now) */
  clock?: () => number;
}

/**
 * Produces raw events (Avro, Confluent wire format) on each stream's raw topic, the streams
 * interleaved in proportion to their sizes, at a chosen rate. The feeder CLI and the demo use it.
 */
export async function feedEvents(
  transport: Transport,
  registry: SchemaRegistry,
  topics: TopicCatalogue,
  opts: FeedOptions,
): Promise<{ sent: number; seconds: number }> {
  const codecs = new Codecs(registry, topics);
  const feeds = opts.sources.map((source) => ({
    source,
    topic: topics.raw(source.stream),
    codec: codecs.raw(topics.stream(source.stream)),
    next: 0,
    key: topics.stream(source.stream),
  }));
  const producer = await transport.producer();
  const total = feeds.reduce((n, f) => n + f.source.count, 0);
  const batch = Math.max(1, opts.batch ?? 100);
  const clock = opts.clock ?? Date.now;
  const t0 = Date.now();
  let sent = 0;
  try {
    while (sent < total) {
      const out = feeds.map(() => [] as OutgoingRecord[]);
      for (let b = 0; b < batch && sent + b < total; b++) {
        // the stream furthest behind its share goes next, so every stream progresses together
        let pick = -1;
        for (let f = 0; f < feeds.length; f++) {
          const feed = feeds[f];
          if (feed.next >= feed.source.count) continue;
          if (pick < 0 || feed.next * feeds[pick].source.count < feeds[pick].next * feed.source.count) pick = f;
        }
        const feed = feeds[pick];
        const event = feed.source.event(feed.next++, clock());
        out[pick].push({ key: Buffer.from(feed.key.key(event)), value: await feed.codec.encode(event) });
      }
      for (let f = 0; f < feeds.length; f++) if (out[f].length > 0) await producer.send(feeds[f].topic, out[f]);
      sent += out.reduce((n, o) => n + o.length, 0);
      opts.onProgress?.(sent, total);
      if (opts.rate > 0) {
        const due = t0 + (sent / opts.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    await producer.close();
  }
  return { sent, seconds: (Date.now() - t0) / 1000 };
}

/** Cuts sentences into text windows of about `size` tokens, per document. */
export function toWindows(documentId: string, sentences: readonly string[][], size: number): Array<{ documentId: string; tokens: string[] }> {
  const out: Array<{ documentId: string; tokens: string[] }> = [];
  let current: string[] = [];
  for (const s of sentences) {
    current.push(...s);
    if (current.length >= size) {
      out.push({ documentId, tokens: current });
      current = [];
    }
  }
  if (current.length > 0) out.push({ documentId, tokens: current });
  return out;
}
