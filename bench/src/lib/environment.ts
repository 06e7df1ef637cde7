import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';

function git(args: string): string | null {
  try {
    return execSync(`git ${args}`, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .replace(/\s+$/, '');
  } catch {
    return null;
  }
}

/**
 * What every result file records about the run: machine, versions, command, and the commit with
 * whether the work tree had uncommitted changes to anything but results (a result from a dirty
 * tree is not reproducible from its commit alone; the files that differed are listed). Result
 * files written earlier by the same batch of runs (`bench/results/`) do not make a tree dirty:
 * they are outputs, not code; they are listed apart.
 */
export function runEnvironment(): Record<string, unknown> {
  const status = git('status --porcelain --untracked-files=no');
  // porcelain lines are "XY path": never trim the first line's leading space
  const changed =
    status === null
      ? []
      : status
          .split('\n')
          .filter((l) => l.length > 3)
          .map((l) => l.slice(3));
  const code = changed.filter((f) => !f.startsWith('bench/results/'));
  return {
    date: new Date().toISOString(),
    command: process.env.FRESHET_BENCH_COMMAND ?? `node ${process.argv.slice(1).join(' ')}`,
    commit: git('rev-parse --short HEAD') ?? 'unknown',
    dirty: status === null ? null : code.length > 0,
    dirtyFiles: code,
    resultFilesChanged: changed.filter((f) => f.startsWith('bench/results/')),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Prints a result as JSON and, with --out FILE, writes it there too. */
export function emitResult(result: unknown, out: string | undefined): void {
  const json = JSON.stringify(result, null, 2) + '\n';
  if (out !== undefined) writeFileSync(out, json);
  process.stdout.write(json);
}
