/**
 * Skip-gram throughput and quality, ours beside gensim and fastText on the same corpus and
 * settings, with 1 and 2 threads, several alternated rounds (medians reported).
 *
 *   npm run bench:sgns -- [--rounds 3] [--epochs 5] [--corpus sotu,moby-dick] [--systems ...]
 *
 * Settings for every system: dim 100, window 5, 5 negatives, min count 5, sample 1e-3, lr 0.025
 * decaying linearly. Words/s = raw corpus words x epochs / training time (vocabulary building
 * excluded). The corpus is tokenised once by us and given to every system as the same file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateSimilarity, parseSimilarityFile } from '@freshet/core';
import { loadCorpusSentences, readWord2VecText, dataDir } from '@freshet/datasets';
import { numberArg, parseArgs } from './lib/args.js';
import { runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, 'rounds', 3);
const epochs = numberArg(args, 'epochs', 5);
const corpusNames = (args.get('corpus') ?? 'sotu,moby-dick').split(',');
const adaptiveRefresh = numberArg(args, 'adaptive-refresh-every', 0);
const adaptiveLambda = numberArg(args, 'adaptive-lambda', 0.01);
const adaptiveMix = numberArg(args, 'adaptive-mix', 0.1);
const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(benchRoot, '..', 'tools', 'cli', 'dist', 'main.js');

const allSystems = ['ours-popularity', 'ours-adaptive', 'gensim', 'fasttext'];
const systems = (args.get('systems') ?? allSystems.join(',')).split(',');
const threadCounts = (args.get('threads') ?? '1,2').split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'freshet-sgns-'));
const corpusFile = join(dir, 'corpus.txt');
const sentences = loadCorpusSentences(corpusNames);
writeFileSync(corpusFile, sentences.map((s) => s.join(' ')).join('\n') + '\n');
const rawWords = sentences.reduce((n, s) => n + s.length, 0);
const simDir = join(dataDir(), 'word-similarity', 'normalized');
const simFiles = ['EN-WS-353-ALL.tsv', 'EN-WS-353-SIM.tsv', 'EN-WS-353-REL.tsv', 'EN-MEN-TR-3k.tsv', 'EN-MTurk-771.tsv', 'EN-RW-STANFORD.tsv'];
const simSets = simFiles.map((f) => ({ name: f, pairs: parseSimilarityFile(readFileSync(join(simDir, f), 'utf8'), f) }));

interface RunResult {
  wordsPerSecond: number;
  seconds: number;
  spearman: Record<string, number>;
  extra?: Record<string, unknown>;
}

function run(cmd: string, cmdArgs: string[]): string {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout + r.stderr;
}

function spearmanOf(vectorsFile: string): Record<string, number> {
  const { vocab, vectors } = readWord2VecText(vectorsFile);
  return Object.fromEntries(simSets.map((s) => [s.name, round(evaluateSimilarity(vocab, vectors, s.pairs).spearman)]));
}

function ours(sampler: 'popularity' | 'adaptive', threads: number, seed: number): RunResult {
  const out = join(dir, `ours-${sampler}-${threads}.vec`);
  const extra = sampler === 'adaptive' ? ['--lambda', String(adaptiveLambda), '--mix-share', String(adaptiveMix), ...(adaptiveRefresh > 0 ? ['--refresh-every', String(adaptiveRefresh)] : [])] : [];
  const text = run('node', [cli, 'train-words', '--corpus', corpusFile, '--min-count', '5', '--epochs', String(epochs), '--threads', String(threads), '--sampler', sampler, '--seed', String(seed), '--neighbours', 'whale', '--out', out, ...extra]);
  const lines = text.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]) as { trainSeconds: number; rawWords: number; samplerStats: Record<string, number> };
  return { seconds: result.trainSeconds, wordsPerSecond: (result.rawWords * epochs) / result.trainSeconds, spearman: spearmanOf(out), extra: { samplerStats: result.samplerStats } };
}

function gensim(threads: number, seed: number): RunResult {
  const out = join(dir, `gensim-${threads}.vec`);
  const text = run('/usr/bin/python3', [join(benchRoot, 'python', 'gensim_sgns.py'), corpusFile, out, String(threads), String(epochs), String(seed)]);
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  const r = JSON.parse(line) as { seconds: number; wordsPerSecond: number; version: string; rawWords: number };
  return { seconds: r.seconds, wordsPerSecond: r.wordsPerSecond, spearman: spearmanOf(out), extra: { version: r.version, rawWords: r.rawWords } };
}

function fasttext(threads: number, seed: number): RunResult {
  const out = join(dir, `fasttext-${threads}`);
  const t0 = performance.now();
  const text = run('fasttext', ['skipgram', '-input', corpusFile, '-output', out, '-dim', '100', '-ws', '5', '-neg', '5', '-minCount', '5', '-t', '1e-3', '-epoch', String(epochs), '-minn', '0', '-maxn', '0', '-thread', String(threads), '-lr', '0.025', '-seed', String(seed), '-verbose', '2']);
  const wall = (performance.now() - t0) / 1000;
  // fastText's own figure: words/sec/thread over the training loop (it counts end-of-line tokens too)
  const m = [...text.matchAll(/words\/sec\/thread:\s*(\d+)/g)].pop();
  const perThread = m ? Number(m[1]) : Number.NaN;
  const wps = perThread * threads;
  return { seconds: (rawWords * epochs) / wps, wordsPerSecond: wps, spearman: spearmanOf(`${out}.vec`), extra: { wallSecondsWithVocabAndSave: round(wall) } };
}

const runners: Record<string, (threads: number, seed: number) => RunResult> = {
  'ours-popularity': (t, s) => ours('popularity', t, s),
  'ours-adaptive': (t, s) => ours('adaptive', t, s),
  gensim,
  fasttext,
};

const results: Record<string, RunResult[]> = {};
for (let r = 0; r < rounds; r++) {
  // alternate the order every round so drift on the machine does not favour one system
  const order = r % 2 === 0 ? systems : [...systems].reverse();
  for (const system of order) {
    for (const threads of threadCounts) {
      const key = `${system}-${threads}t`;
      const res = runners[system](threads, r + 1);
      (results[key] ??= []).push(res);
      process.stderr.write(`[sgns] round ${r + 1} ${key}: ${Math.round(res.wordsPerSecond)} words/s, WS-353 ${res.spearman['EN-WS-353-ALL.tsv']}\n`);
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

const summary: Record<string, unknown> = {};
for (const [key, runs] of Object.entries(results)) {
  summary[key] = {
    medianWordsPerSecond: Math.round(median(runs.map((x) => x.wordsPerSecond))),
    medianSeconds: round(median(runs.map((x) => x.seconds))),
    medianSpearman: Object.fromEntries(simFiles.map((f) => [f, round(median(runs.map((x) => x.spearman[f])))])),
    runs,
  };
}
const wps = (key: string): number | null => (summary[key] as { medianWordsPerSecond: number } | undefined)?.medianWordsPerSecond ?? null;
const secs = (key: string): number | null => (summary[key] as { medianSeconds: number } | undefined)?.medianSeconds ?? null;
const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round(a / b));
const result = {
  benchmark: 'sgns',
  corpus: corpusNames,
  rawWords,
  settings: { dim: 100, window: 5, negatives: 5, minCount: 5, sample: 1e-3, lr: 0.025, epochs, rounds, adaptive: { lambdaFraction: adaptiveLambda, mixShare: adaptiveMix, refreshEvery: adaptiveRefresh || 'ceil(|V| ln |V|)' } },
  ratioVsGensim1t: ratio(wps('ours-popularity-1t'), wps('gensim-1t')),
  ratioVsGensim2t: ratio(wps('ours-popularity-2t'), wps('gensim-2t')),
  adaptiveTimeRatio1t: ratio(secs('ours-adaptive-1t'), secs('ours-popularity-1t')),
  adaptiveTimeRatio2t: ratio(secs('ours-adaptive-2t'), secs('ours-popularity-2t')),
  systems: summary,
  environment: runEnvironment(),
};
const json = JSON.stringify(result, null, 2);
const out = args.get('out');
if (out !== undefined) writeFileSync(out, json + '\n');
process.stdout.write(json + '\n');
