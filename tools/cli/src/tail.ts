import { randomUUID } from 'node:crypto';
import { bytesToVector } from '@freshet/avro';
import { Codecs, commonOptions, schemaRegistryFromOptions } from '@freshet/pipeline';
import { bool, num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { connectKafka } from './kafka.js';

export const tailOptions: OptionSpec[] = [
  ...commonOptions.filter((o) => !o.name.startsWith('http-') && o.name !== 'partitions' && o.name !== 'producer-compression'),
  { name: 'topic', kind: 'string', default: 'dead-letters', choices: ['dead-letters', 'model-updates'], help: 'which topic to decode' },
  { name: 'from-beginning', kind: 'boolean', default: false, help: 'start at the oldest record (default: only what arrives from now on)' },
  { name: 'max', kind: 'number', integer: true, min: 1, default: 20, help: 'stop after this many records' },
  { name: 'timeout-seconds', kind: 'number', above: 0, default: 10, help: 'stop when nothing arrives for this long' },
];

/**
 * `freshet tail`: decodes the dead-letter topic (why each record was rejected, and its original
 * bytes in base64) or the model-update topic (which vectors changed), one JSON object per line.
 */
export async function tail(v: OptionValues): Promise<Record<string, unknown>> {
  const which = str(v, 'topic') ?? 'dead-letters';
  const { transport, topics } = await connectKafka(v, 'tail', (t) => [which === 'dead-letters' ? t.deadLetters : t.modelUpdates]);
  const registry = schemaRegistryFromOptions(v, process.env);
  const topic = which === 'dead-letters' ? topics.deadLetters : topics.modelUpdates;
  const codecs = new Codecs(registry, topics);
  const deadCodec = codecs.deadLetters();
  const updateCodec = codecs.modelUpdates();
  const max = num(v, 'max');
  const idleMs = num(v, 'timeout-seconds') * 1000;
  let printed = 0;
  let last = Date.now();
  const consumer = await transport.consumer({ groupId: `freshet-tail-${randomUUID()}`, topics: [topic], fromBeginning: bool(v, 'from-beginning') });
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (printed >= max || Date.now() - last > idleMs) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });
  void consumer.run(async (batch) => {
    for (const r of batch.records) {
      if (printed >= max) return;
      last = Date.now();
      const at = { partition: r.partition, offset: r.offset, timestamp: new Date(r.timestamp).toISOString() };
      let line: Record<string, unknown>;
      if (which === 'dead-letters') {
        const d = (await deadCodec.decode(r.value)).value;
        line = {
          ...at,
          errorCode: d.errorCode,
          error: d.error,
          from: `${d.topic}#${d.partition}@${d.offset}`,
          service: d.service,
          rejectedAt: new Date(d.rejectedAt).toISOString(),
          originalKey: d.originalKey?.toString('utf8') ?? null,
          originalValueBase64: d.originalValue?.toString('base64') ?? null,
        };
      } else {
        const u = (await updateCodec.decode(r.value)).value;
        const vec = bytesToVector(u.vector, u.dim);
        line = {
          ...at,
          kind: u.kind,
          id: u.id,
          dim: u.dim,
          version: u.version,
          bias: u.bias,
          norm: Math.hypot(...vec),
          head: Array.from(vec.subarray(0, 4), (x) => Number(x.toFixed(4))),
        };
      }
      process.stdout.write(JSON.stringify(line) + '\n');
      printed++;
    }
  });
  await done;
  await consumer.close();
  return { command: 'tail', topic, printed };
}
