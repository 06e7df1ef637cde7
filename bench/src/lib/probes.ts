import { healthz, type BenchService } from './services.js';

/**
 * /healthz latency of every live service of a run, probed together every `everyMs`, with where
 * the probes over 100 ms fell (steady load, or just after a service's restart).
 */
export class HealthProber {
  readonly ms: Record<string, number[]> = {};
  readonly slow: Array<{ service: string; atSeconds: number; ms: number }> = [];
  private probing = true;
  private readonly loop: Promise<void>;

  constructor(services: readonly BenchService[], t0: number, everyMs = 250) {
    this.loop = (async () => {
      while (this.probing) {
        await Promise.all(services.filter((x) => !x.child.killed).map((x) => this.probe(x, t0)));
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  private async probe(x: BenchService, t0: number): Promise<void> {
    const t = performance.now();
    try {
      await healthz(x.port);
      const ms = performance.now() - t;
      (this.ms[x.name] ??= []).push(ms);
      if (ms > 100) this.slow.push({ service: x.name, atSeconds: Math.round((Date.now() - t0) / 100) / 10, ms: Math.round(ms) });
    } catch {
      // a service between its kill and its restart
    }
  }

  async stop(): Promise<void> {
    this.probing = false;
    await this.loop;
  }
}
