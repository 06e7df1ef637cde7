import { execSync } from 'node:child_process';
import os from 'node:os';

/** What every result file records about the run: machine, versions, command. */
export function runEnvironment(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // not a git checkout: leave unknown
  }
  return {
    date: new Date().toISOString(),
    command: process.env.FRESHET_BENCH_COMMAND ?? `node ${process.argv.slice(1).join(' ')}`,
    commit,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}
