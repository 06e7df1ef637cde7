import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabeledImage } from '@freshet/core';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A Python virtual environment under bench/.cache with the given pip packages, made on first use. */
export function pythonVenv(name: string, packages: readonly string[]): string | { error: string } {
  const venv = join(benchRoot, '.cache', name);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    mkdirSync(dirname(venv), { recursive: true });
    const made = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    if (made.status !== 0) return { error: 'python3 -m venv failed' };
  }
  const check = spawnSync(python, ['-m', 'pip', 'show', '-q', ...packages.map((p) => p.split('==')[0])]);
  if (check.status !== 0) {
    process.stderr.write(`[bench] installing ${packages.join(' ')} into ${venv}\n`);
    const pip = spawnSync(python, ['-m', 'pip', 'install', '-q', ...packages], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (pip.status !== 0) return { error: `pip install ${packages.join(' ')} failed` };
  }
  return python;
}

/**
 * LightFM's WARP on the same split, as an external reference (its own process, one thread). The
 * PyPI `lightfm` 1.17 sdist no longer builds with current setuptools; `rectools-lightfm` is the
 * same code (import name `lightfm`) with wheels.
 */
export function runLightFm(
  train: readonly LabeledImage[],
  test: ReadonlyArray<{ id: string; label: string }>,
  opts: { dim: number; seed: number; budgetSeconds: number; lr?: number },
): unknown {
  const python = pythonVenv('lightfm-venv', ['rectools-lightfm==1.17.3']);
  if (typeof python !== 'string') return python;
  const dir = mkdtempSync(join(tmpdir(), 'freshet-lightfm-'));
  writeFileSync(join(dir, 'train.tsv'), train.map((i) => `${i.id}\t${i.labels.join(' ')}`).join('\n') + '\n');
  writeFileSync(join(dir, 'test.tsv'), test.map((p) => `${p.id}\t${p.label}`).join('\n') + '\n');
  const script = join(benchRoot, 'python', 'lightfm_warp.py');
  const args = [script, join(dir, 'train.tsv'), join(dir, 'test.tsv'), String(opts.dim), String(opts.seed), String(opts.budgetSeconds), String(opts.lr ?? 0.05)];
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) return { error: `lightfm run failed: ${r.stderr.slice(-500)}` };
  return JSON.parse(r.stdout) as unknown;
}
