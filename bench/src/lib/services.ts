import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@freshet/runtime';
import type { Admin } from '@freshet/transport';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface BenchService {
  name: string;
  child: ChildProcess;
  port: number;
}

/** Starts a service's compiled entry point as its own process and waits for /readyz. */
export async function startService(name: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<BenchService> {
  const port = await freePort();
  // FRESHET_BENCH_LOG_DIR: each service's log in a file there (warnings and errors), for a run that goes wrong
  const logDir = process.env.FRESHET_BENCH_LOG_DIR;
  const log = logDir !== undefined ? openSync(join(logDir, `${name}-${port}.log`), 'a') : 'ignore';
  // FRESHET_BENCH_NODE_ARGS_<SERVICE>: more node flags for one service (--cpu-prof to profile it; written when it stops on SIGTERM)
  const extra = (process.env[`FRESHET_BENCH_NODE_ARGS_${name.toUpperCase()}`] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...extra, join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env, FRESHET_HTTP_PORT: String(port), FRESHET_LOG_LEVEL: 'warn' },
    stdio: ['ignore', log, log],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return { name, child, port };
    } catch {
      // starting
    }
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready`);
}

export async function healthz(port: number): Promise<Record<string, number>> {
  return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, number>;
}

/** One scrape of /metrics: the sum of every sample of each metric family (labels summed over). */
export async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const brace = line.indexOf('{');
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    // each metric summed over its series, and summed per label value (`name{label="x"}`, whatever other labels the series has)
    out.set(name, (out.get(name) ?? 0) + value);
    if (brace >= 0 && brace < space)
      for (const label of line.slice(brace + 1, line.lastIndexOf('}', space)).split(',')) {
        const key = `${name}{${label}}`;
        out.set(key, (out.get(key) ?? 0) + value);
      }
  }
  return out;
}

export interface BenchBroker {
  brokers: string;
  stop: () => Promise<void>;
  /** a broker of this run's own (not $KAFKA_BROKERS): stopped and started again on the same ports, keeping its data */
  outage?: { stop: () => Promise<void>; start: () => Promise<void> };
}

/** $KAFKA_BROKERS, or a broker started from the Maven jars for this run (stopped by the returned function). */
export async function benchBroker(): Promise<BenchBroker> {
  const existing = process.env.KAFKA_BROKERS;
  if (existing) return { brokers: existing, stop: async () => undefined };
  const mod = (await import(join(repoRoot, 'scripts', 'kafka-broker.mjs'))) as {
    startBroker: () => Promise<{ brokers: string; dir: string }>;
    stopBroker: (dir: string, options?: { removeData?: boolean }) => Promise<void>;
    restartBroker: (dir: string) => Promise<unknown>;
  };
  const b = await mod.startBroker();
  return {
    brokers: b.brokers,
    stop: () => mod.stopBroker(b.dir),
    outage: {
      stop: () => mod.stopBroker(b.dir, { removeData: false }),
      start: async () => {
        await mod.restartBroker(b.dir);
      },
    },
  };
}

/** Records a consumer group has not committed yet, summed over the partitions of `topics`. */
export async function groupLag(admin: Admin, group: string, topics: string[]): Promise<number> {
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.endOffsets(topic);
    const committed = await admin.committedOffsets(group, topic);
    for (const e of ends) lag += e.offset - Math.max(0, committed.find((c) => c.partition === e.partition)?.offset ?? 0);
  }
  return lag;
}
