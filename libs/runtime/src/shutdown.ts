import type { Logger } from 'pino';

/**
 * Graceful shutdown: on SIGTERM or SIGINT, run the registered steps in order (fail readiness, stop
 * consuming and commit, flush state, disconnect, close HTTP, flush logs) under a hard timeout,
 * then exit. Calling it twice is harmless; a second signal does not start a second shutdown.
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> | void }> = [];
  private started: Promise<void> | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 20_000,
  ) {}

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  get inProgress(): boolean {
    return this.started !== null;
  }

  listen(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      // every signal is handled (a service that stops itself because of a fault signals itself,
      // and the fault and the supervisor may both do so): only the first starts the shutdown
      process.on(signal, () => {
        if (this.started !== null) {
          this.logger.info({ signal }, 'already shutting down');
          return;
        }
        this.logger.info({ signal }, 'shutting down');
        // a service that asked to stop because of a fault sets process.exitCode first
        void this.run().then(() => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0));
      });
    }
  }

  run(): Promise<void> {
    if (this.started) return this.started;
    this.started = (async () => {
      const timer = setTimeout(() => {
        this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out; exiting');
        process.exit(1);
      }, this.timeoutMs);
      timer.unref();
      for (const step of this.steps) {
        try {
          await step.run();
        } catch (err) {
          this.logger.error({ err, step: step.name }, 'shutdown step failed; continuing');
        }
      }
      clearTimeout(timer);
    })();
    return this.started;
  }
}
