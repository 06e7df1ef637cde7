/**
 * Summary of an alternated before/after run (bench/run-ab.sh): for each figure of bench:trainer
 * and bench:sgns (ours), the median and range of each side over the rounds, and the after/before
 * ratio of each round (the rounds alternate, so a ratio compares runs minutes apart).
 *
 *   node bench/dist/ab-summary.js --dir bench/results/seams-ab --rounds 3 [--out FILE]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { median, range } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2));
const dir = args.get('dir') ?? 'bench/results/seams-ab';
const rounds = numberArg(args, 'rounds', 3);

type Json = Record<string, unknown>;
const read = (name: string): Json => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Json;
const at = (o: unknown, path: string): number => {
  let x: unknown = o;
  for (const k of path.split('.')) x = (x as Record<string, unknown> | undefined)?.[k];
  if (typeof x !== 'number') throw new Error(`no number at ${path}`);
  return x;
};

/** The figures compared, by where each result file keeps them. */
const figures: Record<string, { file: 'trainer' | 'sgns'; path: string }> = {
  'trainer text words/s 1t': { file: 'trainer', path: 'trainer.textWordsPerSecond.1t.median' },
  'trainer text words/s 2t': { file: 'trainer', path: 'trainer.textWordsPerSecond.2t.median' },
  'trainer image steps/s 1t': { file: 'trainer', path: 'trainer.imageStepsPerSecond.1t.median' },
  'trainer image steps/s 2t': { file: 'trainer', path: 'trainer.imageStepsPerSecond.2t.median' },
  'trainer mixed events/s 1t': { file: 'trainer', path: 'trainer.mixedEventsPerSecond.1t.median' },
  'offline skip-gram kernel words/s 1t': { file: 'trainer', path: 'offline.wordsPerSecond1t.median' },
  'offline image-label kernel steps/s 1t': { file: 'trainer', path: 'offline.imageStepsPerSecond1t.median' },
  'sgns popularity words/s 1t': { file: 'sgns', path: 'systems.ours-popularity-1t.medianWordsPerSecond' },
  'sgns popularity words/s 2t': { file: 'sgns', path: 'systems.ours-popularity-2t.medianWordsPerSecond' },
  'sgns adaptive words/s 1t': { file: 'sgns', path: 'systems.ours-adaptive-1t.medianWordsPerSecond' },
  'sgns adaptive words/s 2t': { file: 'sgns', path: 'systems.ours-adaptive-2t.medianWordsPerSecond' },
};

// AB_ONLY=sgns: only the skip-gram figures the runs have (with --threads 2: only the 2-thread ones)
const only = args.get('only') ?? 'all';
const present = (f: { file: string; path: string }, r: number): boolean => {
  try {
    at(read(`${f.file}-before-${r}.json`), f.path);
    return true;
  } catch {
    return false;
  }
};
const rows: Record<string, unknown> = {};
const commits = { before: new Set<string>(), after: new Set<string>() };
for (const [name, f] of Object.entries(figures)) {
  if ((only === 'sgns' && f.file !== 'sgns') || !present(f, 1)) continue;
  const before: number[] = [];
  const after: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const b = read(`${f.file}-before-${r}.json`);
    const a = read(`${f.file}-after-${r}.json`);
    before.push(at(b, f.path));
    after.push(at(a, f.path));
    commits.before.add(String((b.environment as Json).commit));
    commits.after.add(String((a.environment as Json).commit));
  }
  const ratios = after.map((x, i) => x / before[i]);
  rows[name] = {
    before: { median: median(before), range: range(before) },
    after: { median: median(after), range: range(after) },
    afterOverBefore: { median: median(ratios), range: range(ratios), perRound: ratios },
  };
}
emitResult(
  { benchmark: 'ab', dir, rounds, before: [...commits.before], after: [...commits.after], figures: rows, environment: runEnvironment() },
  args.get('out'),
);
