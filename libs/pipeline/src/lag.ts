import { Gauge, type Registry } from '@freshet/runtime';
import type { Admin, TopicPartition, Transport } from '@freshet/transport';
import { registerMetric } from './trainer/metrics.js';

export interface LagMonitorOptions {
  transport: Transport;
  topics: string[];
  /** next offset to process per "topic#partition" (absent: nothing processed yet) */
  positions: () => ReadonlyMap<string, number>;
  registry: Registry;
  /** the partitions this instance owns now (absent: every partition of the topics) */
  owned?: () => readonly TopicPartition[];
  /** its consumer group: where a partition not processed yet resumes */
  groupId?: string;
  everyMs?: number;
}

/**
 * Consumer lag as the service itself sees it: for every partition it consumes, the log end
 * offset minus the next offset it will process, summed per topic, and per partition beside the
 * position itself (an alert finds a partition whose position stands still while it has lag).
 * The position is the later of the group's commit and this instance's own progress: the commit
 * is the truth across restarts and rebalances (another instance may have moved a partition on
 * while this one did not own it), this instance's progress runs ahead of it between commits (the
 * trainer commits only at checkpoints). A partition neither has touched starts at the log's
 * start. Commits go past transaction markers (Batch.nextOffset), so a settled partition is 0.
 * Only the partitions this instance owns count: a standby, or the second of two ingest
 * instances, reports its own share.
 */
export class LagMonitor {
  private readonly perTopic: Gauge<'topic'>;
  private readonly perPartition: Gauge<'topic' | 'partition'>;
  private readonly position: Gauge<'topic' | 'partition'>;
  private timer: NodeJS.Timeout | null = null;
  private admin: Admin | null = null;
  private sampling = false;
  /** the log end offset of each owned partition at the last sample */
  private readonly ends = new Map<string, number>();

  private readonly transport: Transport;
  private readonly topics: string[];
  private readonly positions: () => ReadonlyMap<string, number>;
  private readonly owned: (() => readonly TopicPartition[]) | null;
  private readonly groupId: string | null;
  private readonly everyMs: number;

  constructor(o: LagMonitorOptions) {
    this.transport = o.transport;
    this.topics = o.topics;
    this.positions = o.positions;
    this.owned = o.owned ?? null;
    this.groupId = o.groupId ?? null;
    this.everyMs = o.everyMs ?? 5000;
    const registry = o.registry;
    // several processors in one process (the embedded demo) share a registry and these gauges:
    // their series differ by topic, since each consumes its own topics
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
      registerMetric(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
    this.perTopic = gauge('freshet_consumer_lag_records', 'Records in the consumed partitions not yet processed by this service, per topic.', ['topic']);
    this.perPartition = gauge('freshet_consumer_partition_lag_records', 'Records of one owned partition not yet processed by this instance.', [
      'topic',
      'partition',
    ]);
    this.position = gauge(
      'freshet_consumer_partition_position',
      'Next offset this instance will process in one owned partition (standing still while it has lag: stalled).',
      ['topic', 'partition'],
    );
  }

  async start(): Promise<void> {
    this.admin = await this.transport.admin();
    await this.sample();
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    this.timer.unref();
  }

  async sample(): Promise<void> {
    if (!this.admin || this.sampling) return;
    this.sampling = true;
    try {
      const positions = this.positions();
      const owned = this.owned === null ? null : new Set(this.owned().map((tp) => `${tp.topic}#${tp.partition}`));
      for (const topic of this.topics) {
        let lag = 0;
        // a partition this instance has not processed yet resumes from its group's commit (after a restart, say)
        const committed =
          this.groupId === null
            ? new Map<number, number>()
            : new Map((await this.admin.committedOffsets(this.groupId, topic)).map((c) => [c.partition, c.offset]));
        const starts = new Map((await this.admin.startOffsets(topic)).map((s) => [s.partition, s.offset]));
        for (const end of await this.admin.endOffsets(topic)) {
          const key = `${topic}#${end.partition}`;
          const labels = { topic, partition: String(end.partition) };
          if (owned !== null && !owned.has(key)) {
            this.ends.delete(key);
            // not ours (now): its series go, so nobody adds up a partition twice
            this.perPartition.remove(labels);
            this.position.remove(labels);
            continue;
          }
          const next = Math.max(positions.get(key) ?? -1, committed.get(end.partition) ?? -1, starts.get(end.partition) ?? 0);
          const behind = Math.max(0, end.offset - next);
          this.ends.set(key, end.offset);
          lag += behind;
          this.perPartition.set(labels, behind);
          this.position.set(labels, next);
        }
        this.perTopic.set({ topic }, lag);
      }
    } catch {
      // a broker hiccup: keep the last value, try again next time
    } finally {
      this.sampling = false;
    }
  }

  /**
   * Records behind now: the end offsets of the last sample (every `everyMs`) less the positions as
   * they are now, so it falls as the service catches up and grows only at the next sample.
   */
  behind(): number {
    const positions = this.positions();
    let n = 0;
    for (const [key, end] of this.ends) n += Math.max(0, end - (positions.get(key) ?? 0));
    return n;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.admin?.close();
  }
}
