import { execSync } from 'node:child_process';
import os from 'node:os';

function git(args: string): string | null {
  try {
    return execSync(`git ${args}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

/**
 * What every result file records about the run: machine, versions, command, and the commit with
 * whether the work tree had uncommitted changes (a result from a dirty tree is not reproducible
 * from its commit alone; the files that differed are listed).
 */
export function runEnvironment(): Record<string, unknown> {
  const status = git('status --porcelain --untracked-files=no');
  return {
    date: new Date().toISOString(),
    command: process.env.FRESHET_BENCH_COMMAND ?? `node ${process.argv.slice(1).join(' ')}`,
    commit: git('rev-parse --short HEAD') ?? 'unknown',
    dirty: status === null ? null : status !== '',
    dirtyFiles: status === null || status === '' ? [] : status.split('\n').map((l) => l.slice(3)),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}
