import type { Batch as KafkaBatch, Consumer as KafkaConsumer } from 'kafkajs';
import type { ExclusiveMemberState } from './exclusive-assigner.js';
import type { Batch, Consumer, ConsumerOptions, ConsumerState, TopicPartition, TopicPartitionOffset } from './types.js';

/** Silence from the cluster after which a consumer counts as down (its session timeout is 10 s, heartbeats every 1 s). */
export const CONTACT_TIMEOUT_MS = 20_000;

/** How often a batch still being handled heartbeats (kafkajs sends one only if its interval has passed). */
const HEARTBEAT_WHILE_HANDLING_MS = 1_000;

/**
 * Our consumer over a kafkajs one: batches in partition order, offsets committed only when asked,
 * health from the group's events (joined, heartbeats, crashes), and run() that fails loudly when
 * kafkajs stops the consumer for good.
 */
export class KafkaConsumerAdapter implements Consumer {
  private assigned: TopicPartition[] = [];
  private stopped: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private closed = false;
  private stopTimer: NodeJS.Timeout | null = null;
  private readonly health: ConsumerState = { up: false, rebalances: 0, restarts: 0, lastContact: 0, failure: null };
  private handler: ((batch: Batch) => Promise<void>) | null = null;
  /** batches of transaction markers only, handed to the handler in order with the others */
  private markers: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: KafkaConsumer,
    options: ConsumerOptions,
    member: ExclusiveMemberState,
    private readonly restarts: { inRow: number },
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      this.assigned = Object.entries(assignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })));
      this.health.up = true;
      this.health.rebalances++;
      this.health.lastContact = Date.now();
      // what the exclusive assigner reads at the next join
      if (this.assigned.length === 0) member.ownedSince = 0;
      else if (member.ownedSince === 0) member.ownedSince = Date.now();
      options.onAssignment?.(this.assignment());
    });
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.health.lastContact = Date.now();
    });
    // kafkajs skips a fetched batch that holds only transaction markers (or aborted records)
    // without calling eachBatch: the position moves past them, and so must the offset we commit,
    // or a transactional producer leaves a lag of one per transaction forever
    consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
      const p = event.payload as { topic: string; partition: number; batchSize: number; firstOffset: string | null; lastOffset: string };
      if (p.batchSize !== 0 || p.firstOffset === null) return;
      const batch: Batch = { topic: p.topic, partition: p.partition, records: [], nextOffset: Number(p.lastOffset) + 1 };
      this.markers = this.markers.then(() => this.handler?.(batch)).catch(() => undefined);
    });
    // kafkajs reports a crash as an event, not through run(): a consumer that is not restarted
    // has stopped consuming for good (and left its group), so run() must fail loudly
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      if (this.stopTimer !== null) clearTimeout(this.stopTimer);
      this.stopTimer = null;
      if (restart) {
        this.health.restarts++;
        return;
      }
      this.fail(`consumer crashed: ${error?.message ?? String(error)}`);
    });
    // a crash disconnects (STOP) before it reports whether it restarts (CRASH): a STOP is a
    // failure only if no CRASH follows it
    consumer.on(consumer.events.STOP, () => {
      if (this.closed) return;
      this.stopTimer = setTimeout(() => this.fail('consumer stopped (it left its group) without being closed'), 5000);
      this.stopTimer.unref();
    });
  }

  private fail(reason: string): void {
    if (this.stopTimer !== null) clearTimeout(this.stopTimer);
    this.stopTimer = null;
    if (this.closed || this.health.failure !== null) return;
    this.health.up = false;
    this.health.failure = reason;
    this.stopped?.reject(new Error(reason));
  }

  /**
   * Its health now. A member that has heard nothing from the cluster (no heartbeat, no batch) for
   * CONTACT_TIMEOUT_MS is down: kafkajs keeps retrying a lost cluster for minutes, which must not
   * look like consuming.
   */
  state(): ConsumerState {
    const silent = this.health.up && this.health.lastContact > 0 && Date.now() - this.health.lastContact > CONTACT_TIMEOUT_MS;
    return {
      ...this.health,
      up: this.health.up && !silent,
      ...(silent ? { failure: `no contact with the cluster for ${Math.round((Date.now() - this.health.lastContact) / 1000)} s` } : {}),
    };
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  seek(position: TopicPartitionOffset): void {
    this.consumer.seek({ topic: position.topic, partition: position.partition, offset: String(position.offset) });
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset), ...(o.metadata !== undefined ? { metadata: o.metadata } : {}) })),
    );
  }

  async run(handler: (batch: Batch) => Promise<void>): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.stopped = { resolve, reject };
    });
    this.handler = handler;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        await this.markers;
        // a handler may take longer than the session timeout (a publisher writing a whole version
        // at a million vectors): keep heartbeating meanwhile, or the group drops the member and its
        // next commit fails as unknown. A heartbeat refused for a rebalance is left to the one after
        // the handler, which kafkajs acts on.
        const beating = setInterval(() => {
          // contact is counted by the HEARTBEAT event, only when one reached the coordinator
          heartbeat().catch(() => undefined);
        }, HEARTBEAT_WHILE_HANDLING_MS);
        try {
          await this.handleBatch(handler, batch);
        } finally {
          clearInterval(beating);
        }
        this.health.lastContact = Date.now();
        this.restarts.inRow = 0;
        await heartbeat();
      },
    });
    if (this.closed) this.stopped?.resolve();
    return done;
  }

  private async handleBatch(handler: (batch: Batch) => Promise<void>, batch: KafkaBatch): Promise<void> {
    await handler({
      topic: batch.topic,
      partition: batch.partition,
      // past the markers and aborted records the batch ends with, too
      nextOffset: Number(batch.lastOffset()) + 1,
      records: batch.messages.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: Number(m.offset),
        key: m.key,
        value: m.value,
        headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? '' : Buffer.isBuffer(v) ? v.toString() : String(v)])),
        timestamp: Number(m.timestamp),
      })),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.stopTimer !== null) clearTimeout(this.stopTimer);
    this.health.up = false;
    await this.consumer.disconnect();
    this.stopped?.resolve();
  }
}
