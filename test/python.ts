import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './services.js';

/** A virtual environment with the reader's requirements, made once under .cache/. */
export function pythonWithRequirements(): string {
  const venv = join(repoRoot, '.cache', 'python-reader-venv');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    mkdirSync(join(repoRoot, '.cache'), { recursive: true });
    const made = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`python3 -m venv failed: ${made.stderr}`);
  }
  const ok = spawnSync(python, ['-c', 'import confluent_kafka, fastavro, numpy, usearch'], { encoding: 'utf8' });
  if (ok.status !== 0) {
    const pip = spawnSync(python, ['-m', 'pip', 'install', '-q', '-r', join(repoRoot, 'examples', 'python', 'requirements.txt')], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (pip.status !== 0) throw new Error(`pip install failed: ${pip.stderr}`);
  }
  return python;
}
