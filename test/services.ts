import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@freshet/runtime';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export { freePort };

export interface RunningService {
  name: string;
  child: ChildProcess;
  port: number;
  log: string[];
}

/** Starts a service as its own process (the compiled entry point), logs kept for failures. */
export async function startService(name: 'ingest' | 'trainer' | 'publisher', env: Record<string, string>, args: string[] = []): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js'), ...args], {
    env: { ...process.env, ...env, FRESHET_HTTP_PORT: String(port), FRESHET_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${log.join('')}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready within 60 s:\n${log.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name, child, port, log };
}

export async function stopService(s: RunningService, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill(signal);
  return exited;
}
