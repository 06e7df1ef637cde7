/** What a wait is for, and how long it may take. */
export interface WaitOptions {
  timeoutMs: number;
  /** what is awaited, for the error: "every record applied" */
  what: string;
  /** how often the condition is asked (default 20 ms) */
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT';
}

/**
 * Waits until a condition holds (asked every `intervalMs`), or fails naming what it waited for:
 * the one wait of the tests, the demo and the benchmarks, so none of them sleeps a fixed time
 * and hopes.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new WaitTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
