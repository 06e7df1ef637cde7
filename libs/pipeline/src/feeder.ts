import { AvroCodec, type ImageLabelEvent, type SchemaRegistry, type TextWindowEvent } from '@freshet/avro';
import type { LabeledImage } from '@freshet/core';
import type { OutgoingRecord, Transport } from '@freshet/transport';
import { schemaTexts, type TopicNames } from './topics.js';

export interface FeedOptions {
  images: readonly LabeledImage[];
  /** text windows: each a run of tokens from one document */
  windows: ReadonlyArray<{ documentId: string; tokens: string[] }>;
  /** events per second across both streams; 0 sends as fast as the transport takes them */
  rate: number;
  /** events per send call */
  batch?: number;
  source?: string;
  onProgress?: (sent: number, total: number) => void;
  /** event time of each event (default: now) */
  clock?: () => number;
}

/**
 * Produces raw events (Avro, Confluent wire format) from data sets: image-label lines and text
 * windows interleaved in proportion, at a chosen rate. The feeder CLI and the demo use it.
 */
export async function feedEvents(transport: Transport, registry: SchemaRegistry, topics: TopicNames, opts: FeedOptions): Promise<{ sent: number; seconds: number }> {
  const s = schemaTexts();
  const imageCodec = new AvroCodec<ImageLabelEvent>(registry, topics.rawImageLabels, s.imageLabel.text);
  const textCodec = new AvroCodec<TextWindowEvent>(registry, topics.rawTextWindows, s.textWindow.text);
  const producer = await transport.producer();
  const total = opts.images.length + opts.windows.length;
  const batch = Math.max(1, opts.batch ?? 100);
  const clock = opts.clock ?? Date.now;
  const t0 = Date.now();
  const sequence = new Map<string, number>();
  let i = 0;
  let w = 0;
  let sent = 0;
  try {
    while (sent < total) {
      const images: OutgoingRecord[] = [];
      const texts: OutgoingRecord[] = [];
      for (let b = 0; b < batch && sent + images.length + texts.length < total; b++) {
        // interleave so both streams progress together, in proportion to their sizes
        const takeImage = w >= opts.windows.length || (i < opts.images.length && i * opts.windows.length <= w * opts.images.length);
        if (takeImage) {
          const img = opts.images[i++];
          images.push({ key: Buffer.from(img.id), value: await imageCodec.encode({ imageId: img.id, labels: img.labels, eventTime: clock(), weight: null, source: opts.source ?? 'freshet-feeder' }) });
        } else {
          const win = opts.windows[w++];
          const seq = sequence.get(win.documentId) ?? 0;
          sequence.set(win.documentId, seq + 1);
          texts.push({ key: Buffer.from(win.documentId), value: await textCodec.encode({ documentId: win.documentId, sequence: seq, tokens: win.tokens, eventTime: clock() }) });
        }
      }
      if (images.length > 0) await producer.send(topics.rawImageLabels, images);
      if (texts.length > 0) await producer.send(topics.rawTextWindows, texts);
      sent += images.length + texts.length;
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
