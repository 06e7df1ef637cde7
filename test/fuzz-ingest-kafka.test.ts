import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { LocalSchemaRegistry, loadSchemaFiles } from '@freshet/avro';
import { Rng } from '@freshet/core';
import { Codecs, imageLabelsStream, textWindowsStream, TopicCatalogue } from '@freshet/pipeline';
import { waitFor } from '@freshet/runtime';
import { deploymentEnv, health, startService, stopService, type RunningService } from './services.js';

const brokers = inject('kafkaBrokers');

/** How many random records the run sends, each followed by a sentinel. */
const FUZZ = 240;

/**
 * Random records through the ingest service on a real broker, each followed by a valid sentinel
 * event: random bytes of every size up to the broker's limit, Confluent framing with a random
 * body, valid events with flipped bits or cut short, hundreds of headers, huge headers and keys,
 * tombstones, the other stream's events. Whatever comes, no record may stop its partition: every
 * sentinel is forwarded exactly once, every random record is either forwarded (a flip can leave
 * a valid event) or dead-lettered, the service never exits and stays ready, and /healthz keeps
 * answering. Seeded: a failure replays with the same records.
 */
describe('random records through ingest on a real broker', () => {
  const running: RunningService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s, 'SIGKILL')));
  });

  it(
    'never stop a partition: every sentinel forwarded once, every record forwarded or dead-lettered, the service ready throughout',
    { timeout: 300_000 },
    async () => {
      // FRESHET_FUZZ_SEED replays another run
      const seed = Number(process.env.FRESHET_FUZZ_SEED ?? 20_261_207);
      const rng = new Rng(seed);
      const prefix = `fuzz-${randomUUID().slice(0, 8)}.`;
      const topics = new TopicCatalogue(prefix);
      const env = deploymentEnv(brokers, prefix, 2);
      const codecs = new Codecs(new LocalSchemaRegistry(loadSchemaFiles().map((f) => f.text)), topics);
      const image = codecs.raw(imageLabelsStream);
      const text = codecs.raw(textWindowsStream);
      const raw = topics.raw('image-labels');
      const ingest = await startService('ingest', env);
      running.push(ingest);

      const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => rng.nextInt(256)));
      const event = async (id: string): Promise<Buffer> =>
        image.encode({ imageId: id, labels: ['sky', `l${rng.nextInt(50)}`], eventTime: Date.now(), weight: null, source: null });
      const headers = (count: number, size: number): Record<string, string> =>
        Object.fromEntries(Array.from({ length: count }, (_, i) => [`h${i}`, 'x'.repeat(size)]));
      /** one random record of a random kind, and what it is (reported on failure) */
      const fuzz = async (i: number): Promise<{ kind: string; message: Message }> => {
        const kind = rng.nextInt(11);
        const key = `fuzz-${i}`;
        switch (kind) {
          case 0:
            return { kind: 'tiny random bytes', message: { key, value: bytes(rng.nextInt(64)) } };
          case 1:
            return { kind: 'random bytes', message: { key, value: bytes(rng.nextInt(8192)) } };
          case 2:
            // near the broker's message limit: too big to dead-letter whole (a few per run: they are slow to send)
            return i % 40 === 2
              ? { kind: 'huge random bytes', message: { key, value: Buffer.alloc(900_000 + rng.nextInt(140_000), rng.nextInt(256)) } }
              : { kind: 'random bytes', message: { key, value: bytes(300 + rng.nextInt(3000)) } };
          case 3: {
            // our framing (magic byte, a schema id we know) around a random body
            const framed = Buffer.concat([(await event(key)).subarray(0, 5), bytes(rng.nextInt(200))]);
            return { kind: 'framed random body', message: { key, value: framed } };
          }
          case 4: {
            const v = Buffer.from(await event(key));
            for (let f = 0; f <= rng.nextInt(3); f++) v[rng.nextInt(v.length)] ^= 1 << rng.nextInt(8);
            return { kind: 'valid event with flipped bits', message: { key, value: v } };
          }
          case 5:
            return { kind: 'many headers', message: { key, value: await event(key), headers: headers(rng.nextInt(400), 1) } };
          case 6:
            return { kind: 'huge headers', message: { key, value: await event(key), headers: headers(1 + rng.nextInt(4), 20_000 + rng.nextInt(60_000)) } };
          case 7:
            return rng.nextInt(2) === 0
              ? { kind: 'no key', message: { key: null, value: bytes(rng.nextInt(100)) } }
              : { kind: 'huge key', message: { key: 'k'.repeat(50_000 + rng.nextInt(100_000)), value: await event(key) } };
          case 8:
            return {
              kind: 'a text window on the image topic',
              message: { key, value: await text.encode({ documentId: key, sequence: 0, tokens: ['call', 'me'], eventTime: Date.now() }) },
            };
          case 9: {
            const v = await event(key);
            return { kind: 'valid event cut short', message: { key, value: v.subarray(0, 1 + rng.nextInt(v.length - 1)) } };
          }
          default:
            return { kind: 'tombstone', message: { key, value: null } };
        }
      };

      // /healthz answers throughout (a record that held the event loop would show here)
      let slowestHealthMs = 0;
      let probing = true;
      const probe = (async (): Promise<void> => {
        while (probing && ingest.child.exitCode === null) {
          const t0 = Date.now();
          await health(ingest).catch(() => undefined);
          slowestHealthMs = Math.max(slowestHealthMs, Date.now() - t0);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'fuzz', logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      const kinds = new Map<string, number>();
      /** what was sent at each partition:offset */
      const at = new Map<string, string>();
      for (let i = 0; i < FUZZ; i++) {
        const partition = i % 2;
        const f = await fuzz(i);
        kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
        // one record per request: the broker takes each alone or refuses it alone
        const [meta] = await producer.send({ topic: raw, messages: [{ ...f.message, partition }] });
        at.set(`${partition}:${meta.baseOffset ?? meta.offset ?? '?'}`, `${f.kind} (${f.message.value?.length ?? 0} bytes, key ${f.message.key?.length ?? 0})`);
        await producer.send({ topic: raw, messages: [{ key: `sentinel-${i}`, value: await event(`sentinel-${i}`), partition }] });
      }
      await producer.disconnect();
      expect(kinds.size, JSON.stringify([...kinds])).toBeGreaterThanOrEqual(10);

      // everything handled: ingest's group has committed every raw record
      const admin = kafka.admin();
      await admin.connect();
      const settled = waitFor(
        async () => {
          const ends = await admin.fetchTopicOffsets(raw);
          const committed = (await admin.fetchOffsets({ groupId: `${prefix}freshet-ingest`, topics: [raw] }))[0]?.partitions ?? [];
          return ends.every((e) => Number(committed.find((c) => c.partition === e.partition)?.offset ?? -1) >= Number(e.high));
        },
        { timeoutMs: 180_000, what: 'ingest to commit every random record and sentinel' },
      );
      // what ingest said, when it did not get there
      await settled.catch(async (err: unknown) => {
        const committed = (await admin.fetchOffsets({ groupId: `${prefix}freshet-ingest`, topics: [raw] }))[0]?.partitions ?? [];
        const stuck = committed.map((c) => `partition ${c.partition} at ${c.offset}: ${at.get(`${c.partition}:${c.offset}`) ?? 'a sentinel'}`);
        throw new Error(`${(err as Error).message} (exit ${ingest.child.exitCode}); ${stuck.join('; ')}; ingest log:\n${ingest.log.join('').slice(-3000)}`);
      });
      probing = false;
      await probe;

      const forwarded = await readKeys(kafka, admin, topics.train('image-labels'));
      const dead = await readKeys(kafka, admin, topics.deadLetters);
      await admin.disconnect();
      const sentinels = forwarded.filter((k) => k.startsWith('sentinel-'));
      expect(new Set(sentinels).size, 'every sentinel forwarded').toBe(FUZZ);
      expect(sentinels.length, 'none twice').toBe(FUZZ);
      // every random record accounted for: forwarded (still valid after a flip) or dead-lettered, never lost
      const fuzzForwarded = forwarded.length - sentinels.length;
      expect(fuzzForwarded + dead.length, `${fuzzForwarded} forwarded + ${dead.length} dead-lettered`).toBe(FUZZ);
      expect(dead.length).toBeGreaterThan(FUZZ / 2);
      expect(ingest.child.exitCode, 'ingest never exited').toBeNull();
      expect((await fetch(`http://127.0.0.1:${ingest.port}/readyz`)).status).toBe(200);
      expect(slowestHealthMs, 'slowest /healthz during the run (ms)').toBeLessThan(2000);
    },
  );
});

/** Every record's key on every partition of a topic (null keys as ''), read through a throwaway group. */
async function readKeys(kafka: Kafka, admin: ReturnType<Kafka['admin']>, topic: string): Promise<string[]> {
  const end = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const keys: string[] = [];
  const consumer = kafka.consumer({ groupId: `fuzz-read-${randomUUID()}`, maxBytes: 8 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      keys.push(message.key?.toString() ?? '');
    },
  });
  await waitFor(() => keys.length >= end, { timeoutMs: 60_000, what: `the ${end} records of ${topic}` });
  await consumer.disconnect();
  return keys;
}
