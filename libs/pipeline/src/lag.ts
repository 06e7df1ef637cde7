import { Gauge, type Registry } from '@freshet/runtime';
import type { Admin, Transport } from '@freshet/transport';

const LAG_METRIC = 'freshet_consumer_lag_records';

/**
 * Consumer lag as the service itself sees it: for every partition it consumes, the log end
 * offset minus the next offset it will process, summed per topic. Sampled on a timer with the
 * admin client, so it is correct even while the committed offsets trail (the trainer commits only
 * at checkpoints).
 */
export class LagMonitor {
  private readonly gauge: Gauge<'topic'>;
  private timer: NodeJS.Timeout | null = null;
  private admin: Admin | null = null;
  private sampling = false;

  constructor(
    private readonly transport: Transport,
    private readonly topics: string[],
    /** next offset to process per "topic#partition" (absent: nothing processed yet) */
    private readonly positions: () => ReadonlyMap<string, number>,
    registry: Registry,
    private readonly everyMs = 5000,
  ) {
    // several processors in one process (the embedded demo) share a registry and this one gauge:
    // their series differ by topic, since each consumes its own topics
    const existing = registry.getSingleMetric(LAG_METRIC);
    this.gauge =
      existing instanceof Gauge
        ? (existing as Gauge<'topic'>)
        : new Gauge({
            name: LAG_METRIC,
            help: 'Records in the consumed partitions not yet processed by this service, per topic.',
            labelNames: ['topic'],
            registers: [registry],
          });
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
      for (const topic of this.topics) {
        let lag = 0;
        for (const end of await this.admin.endOffsets(topic)) {
          const next = positions.get(`${topic}#${end.partition}`) ?? 0;
          lag += Math.max(0, end.offset - next);
        }
        this.gauge.set({ topic }, lag);
      }
    } catch {
      // a broker hiccup: keep the last value, try again next time
    } finally {
      this.sampling = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.admin?.close();
  }
}
