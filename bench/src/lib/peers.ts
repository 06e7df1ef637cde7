import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** A peer's setting, in its own library's parameter names. */
export type PeerSetting = Record<string, number>;

/** The Python peers: LightFM (WARP, BPR) and implicit (BPR, ALS), each driven the way its users run it. */
export const PEERS = {
  'lightfm-warp': { script: 'lightfm_run.py', loss: 'warp' },
  'lightfm-bpr': { script: 'lightfm_run.py', loss: 'bpr' },
  'implicit-bpr': { script: 'implicit_run.py', loss: 'bpr' },
  'implicit-als': { script: 'implicit_run.py', loss: 'als' },
} as const;
export type PeerName = keyof typeof PEERS;

export interface PeerRun {
  chosen: PeerSetting;
  /** every setting tried on the validation split, with its curve (rows as in `final.curve`) */
  tuning: Array<{ setting: PeerSetting; validationBestP5: number; diverged: boolean; flat: boolean; curve: number[][] }>;
  /** curve rows: [seconds, cpuSeconds, epochs, p5, map] */
  final: { setting: PeerSetting; curve: number[][]; bestP5: number; bestMap: number; epochs: number; diverged: boolean; flat: boolean };
  /** the driver's training seconds per epoch against one epoch as one call on a fresh model */
  driver: { epochs: number; oneCallEpochSeconds: number; driverEpochSeconds: number; ratio: number | null };
}

const writePairs = (path: string, images: readonly LabeledImage[]): void =>
  writeFileSync(path, images.map((i) => `${i.id}\t${i.labels.join(' ')}`).join('\n') + '\n');
const writeHeldOut = (path: string, pairs: ReadonlyArray<{ id: string; label: string }>): void =>
  writeFileSync(path, pairs.map((p) => `${p.id}\t${p.label}`).join('\n') + '\n');

/**
 * A peer (its own Python process, one thread) on the same splits with the same tuning budget,
 * grid and rule as ours (bench/python/protocol.py): every setting on the inner training part
 * against the validation pairs, the chosen one on the full training part against the test pairs.
 * The PyPI `lightfm` 1.17 sdist no longer builds with current setuptools; `rectools-lightfm` is the
 * same code (import name `lightfm`) with wheels.
 */
export function runPeer(
  peer: PeerName,
  splits: {
    innerTrain: readonly LabeledImage[];
    validation: ReadonlyArray<{ id: string; label: string }>;
    train: readonly LabeledImage[];
    test: ReadonlyArray<{ id: string; label: string }>;
  },
  opts: {
    settings: PeerSetting[];
    dim: number;
    seed: number;
    tuneBudget: number;
    budget: number;
    grid: { first: number; growth: number; patience: number; warmup: number };
  },
): PeerRun | { error: string } {
  const python = pythonVenv('lightfm-venv', ['rectools-lightfm==1.17.3', 'implicit==0.7.3', 'threadpoolctl']);
  if (typeof python !== 'string') return python;
  const dir = mkdtempSync(join(tmpdir(), 'freshet-peer-'));
  try {
    const file = (name: string): string => join(dir, name);
    writePairs(file('inner.tsv'), splits.innerTrain);
    writeHeldOut(file('validation.tsv'), splits.validation);
    writePairs(file('train.tsv'), splits.train);
    writeHeldOut(file('test.tsv'), splits.test);
    const spec = {
      innerTrain: file('inner.tsv'),
      validation: file('validation.tsv'),
      train: file('train.tsv'),
      test: file('test.tsv'),
      loss: PEERS[peer].loss,
      settings: opts.settings,
      dim: opts.dim,
      seed: opts.seed,
      tuneBudget: opts.tuneBudget,
      budget: opts.budget,
      grid: opts.grid,
    };
    writeFileSync(file('spec.json'), JSON.stringify(spec));
    const r = spawnSync(python, [join(benchRoot, 'python', PEERS[peer].script), file('spec.json')], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    });
    if (r.status !== 0) return { error: `${peer} run failed: ${r.stderr.slice(-800)}` };
    return JSON.parse(r.stdout) as PeerRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
