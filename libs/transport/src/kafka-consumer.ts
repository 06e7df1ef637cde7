import type { Consumer as KafkaConsumer } from 'kafkajs';
import type { ExclusiveMemberState } from './exclusive-assigner.js';
import type { Batch, Consumer, ConsumerOptions, ConsumerState, TopicPartition, TopicPartitionOffset } from './types.js';

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

  state(): ConsumerState {
    return { ...this.health };
  }

  assignment(): TopicPartition[] {
    return [...this.assigned];
  }

  seek(position: TopicPartitionOffset): void {
    this.consumer.seek({ topic: position.topic, partition: position.partition, offset: String(position.offset) });
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
  }

  async run(handler: (batch: Batch) => Promise<void>): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.stopped = { resolve, reject };
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key,
            value: m.value,
            headers: Object.fromEntries(
              Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? '' : Buffer.isBuffer(v) ? v.toString() : String(v)]),
            ),
            timestamp: Number(m.timestamp),
          })),
        });
        this.health.lastContact = Date.now();
        this.restarts.inRow = 0;
        await heartbeat();
      },
    });
    if (this.closed) this.stopped?.resolve();
    return done;
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
