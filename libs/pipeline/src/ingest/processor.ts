import { DecodeError, type AvroCodec } from '@freshet/avro';
import { Counter, Histogram } from '@freshet/runtime';
import type { Admin, Batch, ConsumedRecord, Consumer, ConsumerState, OutgoingRecord, Producer, TopicPartition } from '@freshet/transport';
import { Codecs } from '../catalogue.js';
import { DeadLetters } from '../dead-letters.js';
import { LagMonitor } from '../lag.js';
import { ORIGIN_HEADER, originHeader } from '../origin.js';
import type { AnyStream, StreamEvent } from '../streams/stream.js';
import type { ProcessorWiring } from '../wiring.js';
import { rejectionCodes, type IngestLimits, type Normalised, type Rejection } from './checks.js';
import { LogEpochs, type NewLog } from './epochs.js';
import { defaultIngestLimits } from './limits.js';

export interface IngestOptions extends ProcessorWiring {
  /** the common limits and every stream's (default: every default) */
  limits?: IngestLimits;
}

/** One raw topic's way through ingest: its stream's codecs, check and key. */
interface Route {
  codec: AvroCodec<StreamEvent>;
  normalise: (value: StreamEvent) => Normalised<StreamEvent>;
  out: string;
  outCodec: AvroCodec<StreamEvent>;
  key: (value: StreamEvent) => string;
}

/**
 * Ingest: consumes the raw topics, validates and normalises each record, forwards the good ones
 * to the training topics keyed by image or document id (so one entity's records stay in one
 * partition, in order), and sends every bad one whole to the dead-letter topic with its reason.
 * Offsets are committed only after both writes are acknowledged: at-least-once, nothing lost;
 * each forwarded record names its origin (raw partition, offset and the log's epoch), so the
 * trainer applies a copy forwarded again after a crash only once, and never mistakes the events
 * of a recreated raw topic for replays.
 */
export class IngestProcessor {
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private readonly routes = new Map<string, Route>();
  private readonly limits: IngestLimits;
  private readonly deadLetters: DeadLetters;
  private readonly records: Counter<'topic' | 'outcome'>;
  private readonly rejections: Counter<'topic' | 'code'>;
  private readonly batchSeconds: Histogram;
  private readonly adjustments: Counter<'topic' | 'part' | 'code'>;
  private running = false;
  private readonly positions = new Map<string, number>();
  private lag: LagMonitor | null = null;
  private admin: Admin | null = null;
  private readonly epochs: LogEpochs;
  private readonly newLogs: Counter<'topic' | 'reason'>;
  /** records handled since start (for tests and /healthz) */
  handled = 0;

  constructor(private readonly opts: IngestOptions) {
    const t = opts.topics;
    const codecs = new Codecs(opts.registry, t);
    const limits = opts.limits ?? defaultIngestLimits(t.streams);
    this.limits = limits;
    for (const stream of t.streams) this.routes.set(t.raw(stream), route(stream, codecs, t.train(stream), limits));
    this.deadLetters = new DeadLetters(codecs.deadLetters(), t.deadLetters, 'ingest');
    this.records = new Counter({
      name: 'freshet_ingest_records_total',
      help: 'Raw records consumed by ingest, by topic and outcome (accepted or rejected).',
      labelNames: ['topic', 'outcome'],
      registers: [opts.metrics],
    });
    this.rejections = new Counter({
      name: 'freshet_ingest_rejections_total',
      help: 'Records sent to the dead-letter topic, by topic and reason code.',
      labelNames: ['topic', 'code'],
      registers: [opts.metrics],
    });
    // every series exists from the start, so dashboards and alerts see 0 rather than no data
    for (const topic of this.routes.keys()) {
      for (const outcome of ['accepted', 'rejected']) this.records.inc({ topic, outcome }, 0);
      for (const code of rejectionCodes) this.rejections.inc({ topic, code }, 0);
    }
    this.adjustments = new Counter({
      name: 'freshet_ingest_adjustments_total',
      help: 'Parts of accepted records left out or changed (a bad label or token left out, a future event time clamped), by topic, part and reason code.',
      labelNames: ['topic', 'part', 'code'],
      registers: [opts.metrics],
    });
    this.newLogs = new Counter({
      name: 'freshet_ingest_log_restarts_total',
      help: 'Raw partitions whose log started over under ingest (a topic deleted and recreated, truncated, or its offsets reset): a new epoch, by topic and how it showed.',
      labelNames: ['topic', 'reason'],
      registers: [opts.metrics],
    });
    for (const topic of this.routes.keys()) for (const reason of ['went-back', 'below-commit']) this.newLogs.inc({ topic, reason }, 0);
    this.epochs = new LogEpochs(
      async (topic) => (this.admin === null ? [] : this.admin.committedOffsets(this.opts.groupId, topic)),
      (c) => this.saidNewLog(c),
    );
    this.batchSeconds = new Histogram({
      name: 'freshet_ingest_batch_duration_seconds',
      help: 'Time to validate, forward and commit one batch.',
      buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3],
      registers: [opts.metrics],
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Its consumer's health (null before start). */
  consumerState(): ConsumerState | null {
    return this.consumer?.state() ?? null;
  }

  /** Partitions this instance owns now: ingest instances share the raw topics' partitions. */
  assignment(): TopicPartition[] {
    return this.consumer?.assignment() ?? [];
  }

  async start(): Promise<void> {
    const raw = [...this.routes.keys()];
    this.producer = await this.opts.transport.producer();
    this.admin = await this.opts.transport.admin();
    this.consumer = await this.opts.transport.consumer({
      groupId: this.opts.groupId,
      topics: raw,
      fromBeginning: true,
      onAssignment: (assigned) => this.epochs.assigned(assigned),
    });
    this.running = true;
    this.lag = new LagMonitor({
      transport: this.opts.transport,
      topics: raw,
      positions: () => this.positions,
      registry: this.opts.metrics,
      owned: () => this.consumer?.assignment() ?? [],
      groupId: this.opts.groupId,
    });
    await this.lag.start();
    const consumer = this.consumer;
    void consumer
      .run((batch) => this.handle(batch))
      .catch((err: unknown) => {
        this.running = false;
        this.opts.logger.error({ err }, 'ingest consume loop failed');
        this.opts.onFatal?.(err instanceof Error ? err : new Error(String(err)));
      });
  }

  private async handle(batch: Batch): Promise<void> {
    const end = this.batchSeconds.startTimer();
    const route = this.routes.get(batch.topic);
    if (!route || !this.producer || !this.consumer) return;
    const good: OutgoingRecord[] = [];
    const bad: OutgoingRecord[] = [];
    const epoch = batch.records.length > 0 ? await this.epochs.of(batch.topic, batch.partition, batch.records[0]) : undefined;
    for (const [j, record] of batch.records.entries()) {
      // a big batch must not hold the event loop: health probes and metrics answer in between
      if (j > 0 && j % 256 === 0) await new Promise((r) => setImmediate(r));
      const outcome = await this.process(route, record, epoch);
      if ('rejection' in outcome) {
        bad.push({ key: record.key, value: await this.deadLetter(record, outcome.rejection) });
        this.records.inc({ topic: batch.topic, outcome: 'rejected' });
        this.rejections.inc({ topic: batch.topic, code: outcome.rejection.code });
        this.opts.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, code: outcome.rejection.code },
          outcome.rejection.message,
        );
      } else {
        good.push(outcome.record);
        this.records.inc({ topic: batch.topic, outcome: 'accepted' });
      }
    }
    if (good.length > 0) await this.producer.send(route.out, good);
    if (bad.length > 0) await this.producer.send(this.opts.topics.deadLetters, bad);
    // past transaction markers too: a transactional producer's commits must not read as lag
    const metadata = this.epochs.metadata(batch.topic, batch.partition);
    await this.consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset, ...(metadata !== undefined ? { metadata } : {}) }]);
    this.epochs.advanced(batch.topic, batch.partition, batch.nextOffset);
    this.positions.set(`${batch.topic}#${batch.partition}`, batch.nextOffset);
    this.handled += batch.records.length;
    end();
  }

  /** A raw log started over: said in the log and a metric (the trainer counts it too), never turned into skipped events. */
  private saidNewLog(c: NewLog): void {
    this.newLogs.inc({ topic: c.topic, reason: c.reason });
    this.opts.logger.warn(
      { ...c },
      `raw partition ${c.topic}#${c.partition} started over: offset ${c.found} is below ${c.reason === 'went-back' ? 'where this instance was reading' : "the group's commit"} (${c.expected}); ` +
        'the topic was deleted and recreated, truncated, or its offsets reset. Its events are forwarded as a new epoch of the log and trained as new.',
    );
  }

  private async process(route: Route, record: ConsumedRecord, epoch: string | undefined): Promise<{ record: OutgoingRecord } | { rejection: Rejection }> {
    const size = (record.value?.length ?? 0) + (record.key?.length ?? 0);
    if (size > this.limits.maxRecordBytes) {
      return { rejection: { code: 'RECORD_TOO_LARGE', message: `record of ${size} bytes exceeds the ${this.limits.maxRecordBytes}-byte limit` } };
    }
    const headerCount = Object.keys(record.headers).length;
    if (headerCount > this.limits.maxHeaders) {
      return { rejection: { code: 'TOO_MANY_HEADERS', message: `record with ${headerCount} headers, the limit is ${this.limits.maxHeaders}` } };
    }
    let value: StreamEvent;
    try {
      value = (await route.codec.decode(record.value)).value;
    } catch (err) {
      if (err instanceof DecodeError) return { rejection: { code: err.code, message: err.message } };
      throw err;
    }
    const n = route.normalise(value);
    if (!n.ok) return { rejection: n.rejection };
    for (const a of n.adjustments) this.adjustments.inc({ topic: record.topic, part: a.part, code: a.code });
    // where the event came from: the trainer drops the copies a crash between send and commit forwards again
    const headers = {
      [ORIGIN_HEADER]: originHeader({
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        ...(epoch !== undefined ? { epoch } : {}),
      }),
    };
    return { record: { key: Buffer.from(route.key(n.value)), value: await route.outCodec.encode(n.value), timestamp: record.timestamp, headers } };
  }

  private deadLetter(record: ConsumedRecord, rejection: Rejection): Promise<Buffer> {
    return this.deadLetters.encode({ record, code: rejection.code, message: rejection.message });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.lag?.stop();
    await this.consumer?.close();
    await this.admin?.close();
    await this.producer?.close();
  }
}

/** A stream's way through ingest, bound to the limits. */
function route(stream: AnyStream, codecs: Codecs, out: string, limits: IngestLimits): Route {
  return {
    codec: codecs.raw(stream),
    normalise: (v) => stream.normalise(v, limits, Date.now()),
    out,
    outCodec: codecs.train(stream),
    key: (v) => stream.key(v),
  };
}
