import { refreshCadence } from '@freshet/core';

/**
 * When a kernel thread's rank tables fall due: every `every` draws (0 or undefined: the papers'
 * ceil(|A| ln |A|) for the items ranked now), counted by this thread alone. With T Hogwild
 * threads each sees only its own draws, so each asks after 1/T of the interval (`divisor`),
 * which keeps the model's cadence at the papers' while the threads share one set of tables.
 */
export class RefreshCadence {
  private drawsAtRefresh = 0;

  constructor(
    private readonly every: number | undefined,
    /** threads that draw from the same tables */
    public divisor = 1,
  ) {}

  /** Draws this thread makes between refreshes with `items` ranked. */
  interval(items: number): number {
    const every = this.every !== undefined && this.every > 0 ? this.every : refreshCadence(items);
    return every / Math.max(1, this.divisor);
  }

  /** True when the tables were never built or this thread drew its interval since the last refresh. */
  due(draws: number, items: number, built: boolean): boolean {
    return !built || draws - this.drawsAtRefresh >= this.interval(items);
  }

  /** A refresh was asked for at `draws`: the interval counts from here. */
  refreshed(draws: number): void {
    this.drawsAtRefresh = draws;
  }

  /** Draws the kernel may make before the tables fall due (no limit while a refresh is in flight). */
  limit(draws: number, items: number, busy: boolean): number {
    if (busy) return Number.MAX_VALUE;
    return Math.max(1, this.drawsAtRefresh + this.interval(items) - draws);
  }
}
