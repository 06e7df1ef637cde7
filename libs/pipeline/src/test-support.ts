// Helpers shared by this package's tests (not part of its build: see tsconfig.json).
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@freshet/runtime';

/** A logger that writes nowhere, for tests whose log lines would only be noise. */
export function quietLogger(name: string): Logger {
  return createLogger(name, { destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

/** Polls a condition every 20 ms until it holds, or fails after the timeout. */
export async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
