/**
 * Skip-gram throughput and quality, ours beside gensim (both of its modes) and fastText on the
 * same corpus file and settings, with 1 and 2 threads, several alternated rounds (medians and
 * ranges reported).
 *
 *   npm run bench:sgns -- [--rounds 3] [--epochs 5] [--corpus sotu,moby-dick] [--systems ...]
 *
 * Settings for every system: dim 100, window 5, 5 negatives, min count 5, sample 1e-3, lr 0.025
 * decaying linearly. Every system gets the same file (the corpus tokenised once, one sentence a
 * line) and does the same work on the headline clock: read the file, build the vocabulary, train,
 * write the vectors in the word2vec text format. That end-to-end clock runs from the moment the
 * process has loaded its runtime (our CLI and the gensim script report the wall time right after
 * their imports; fastText is a native binary with nothing to load) to the process's exit. Words/s
 * = raw corpus words x epochs / those seconds. Each system's own training-loop time is recorded
 * beside it where the system reports one (not comparable across systems: gensim's includes
 * reading the file, ours and fastText's do not).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateSimilarity, parseSimilarityFile } from '@freshet/core';
import { loadCorpusSentences, readWord2VecText, dataDir } from '@freshet/datasets';
import { numberArg, parseArgs } from './lib/args.js';
import { trainWordsArgv } from './lib/cli.js';
import { emitResult, runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, 'rounds', 3);
const epochs = numberArg(args, 'epochs', 5);
const corpusNames = (args.get('corpus') ?? 'sotu,moby-dick').split(',');
/** our adaptive sampler's variant: the papers' cadence over every word, or over the frequent head */
const adaptive = {
  lambda: numberArg(args, 'adaptive-lambda', 0.01),
  mix: numberArg(args, 'adaptive-mix', 0.1),
  refreshEvery: numberArg(args, 'adaptive-refresh-every', 0),
  head: numberArg(args, 'adaptive-head', 0),
  async: args.get('adaptive-async') !== 'false',
};
const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(benchRoot, '..', 'tools', 'cli', 'dist', 'main.js');

const allSystems = ['ours-popularity', 'ours-adaptive', 'gensim-corpusfile', 'gensim-iterable', 'fasttext'];
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
  /** end to end: runtime loaded -> process exit (read, vocabulary, train, write vectors) */
  seconds: number;
  wordsPerSecond: number;
  /** CPU seconds of the process and its children (user + system) */
  cpuSeconds: number;
  /** the system's own training-loop seconds, where it reports one */
  trainSeconds: number | null;
  spearman: Record<string, { spearman: number; used: number; oov: number }>;
  extra?: Record<string, unknown>;
}

/** CPU seconds (user + system) of this process's waited-for children so far (Linux /proc). */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // after the ") ": field 3 is the state; cutime and cstime are fields 16 and 17 of the full line
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
}

/** Runs a command; returns its output, when it started and ended (ms since the epoch) and its CPU seconds. */
function run(cmd: string, cmdArgs: string[]): { out: string; endedAt: number; startedAt: number; cpu: number } {
  const cpu0 = childrenCpuSeconds();
  const startedAt = Date.now();
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const endedAt = Date.now();
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return { out: r.stdout + r.stderr, endedAt, startedAt, cpu: childrenCpuSeconds() - cpu0 };
}

function spearmanOf(vectorsFile: string): RunResult['spearman'] {
  const { vocab, vectors } = readWord2VecText(vectorsFile);
  return Object.fromEntries(
    simSets.map((s) => {
      const r = evaluateSimilarity(vocab, vectors, s.pairs);
      return [s.name, { spearman: round(r.spearman), used: r.used, oov: r.oov }];
    }),
  );
}

const lastJson = (text: string): Record<string, unknown> =>
  JSON.parse(
    text
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '{}',
  ) as Record<string, unknown>;

function ours(sampler: 'popularity' | 'adaptive', threads: number, seed: number): RunResult {
  const out = join(dir, `ours-${sampler}-${threads}.vec`);
  const extra =
    sampler === 'adaptive'
      ? [
          '--lambda',
          String(adaptive.lambda),
          '--mix-share',
          String(adaptive.mix),
          '--head',
          String(adaptive.head),
          ...(adaptive.refreshEvery > 0 ? ['--refresh-every', String(adaptive.refreshEvery)] : []),
          '--async-refresh',
          String(adaptive.async),
        ]
      : [];
  const r = run('node', [cli, ...trainWordsArgv({ corpus: corpusFile, epochs, threads, seed }), '--sampler', sampler, '--out', out, ...extra]);
  const result = lastJson(r.out) as { trainSeconds: number; readSeconds: number; startedAt: number; samplerStats: Record<string, number> };
  const seconds = (r.endedAt - result.startedAt) / 1000;
  return {
    seconds,
    wordsPerSecond: (rawWords * epochs) / seconds,
    cpuSeconds: r.cpu,
    trainSeconds: result.trainSeconds,
    spearman: spearmanOf(out),
    extra: { readSeconds: result.readSeconds, samplerStats: result.samplerStats },
  };
}

function gensim(mode: 'corpus_file' | 'iterable', threads: number, seed: number): RunResult {
  const out = join(dir, `gensim-${mode}-${threads}.vec`);
  const r = run('/usr/bin/python3', [join(benchRoot, 'python', 'gensim_sgns.py'), corpusFile, out, String(threads), String(epochs), String(seed), mode]);
  const g = lastJson(r.out) as { startedAt: number; trainSeconds: number; vocabSeconds: number; version: string; rawWords: number };
  const seconds = (r.endedAt - g.startedAt) / 1000;
  return {
    seconds,
    wordsPerSecond: (rawWords * epochs) / seconds,
    cpuSeconds: r.cpu,
    trainSeconds: g.trainSeconds,
    spearman: spearmanOf(out),
    extra: { version: g.version, mode, vocabSeconds: g.vocabSeconds, rawWordsByGensim: g.rawWords },
  };
}

function fasttext(threads: number, seed: number): RunResult {
  const out = join(dir, `fasttext-${threads}`);
  const r = run('fasttext', [
    'skipgram',
    '-input',
    corpusFile,
    '-output',
    out,
    '-dim',
    '100',
    '-ws',
    '5',
    '-neg',
    '5',
    '-minCount',
    '5',
    '-t',
    '1e-3',
    '-epoch',
    String(epochs),
    '-minn',
    '0',
    '-maxn',
    '0',
    '-thread',
    String(threads),
    '-lr',
    '0.025',
    '-seed',
    String(seed),
    '-verbose',
    '2',
  ]);
  // a native binary: nothing to load before its work begins, so its clock is the whole process
  const seconds = (r.endedAt - r.startedAt) / 1000;
  const m = [...r.out.matchAll(/words\/sec\/thread:\s*(\d+)/g)].pop();
  return {
    seconds,
    wordsPerSecond: (rawWords * epochs) / seconds,
    cpuSeconds: r.cpu,
    trainSeconds: null,
    spearman: spearmanOf(`${out}.vec`),
    extra: { ownWordsPerSecondPerThread: m ? Number(m[1]) : null, note: 'fastText also writes its .bin model' },
  };
}

const runners: Record<string, (threads: number, seed: number) => RunResult> = {
  'ours-popularity': (t, s) => ours('popularity', t, s),
  'ours-adaptive': (t, s) => ours('adaptive', t, s),
  'gensim-corpusfile': (t, s) => gensim('corpus_file', t, s),
  'gensim-iterable': (t, s) => gensim('iterable', t, s),
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
      process.stderr.write(
        `[sgns] round ${r + 1} ${key}: ${Math.round(res.wordsPerSecond)} words/s end to end (${res.seconds.toFixed(2)} s, cpu ${res.cpuSeconds.toFixed(1)} s), WS-353 ${res.spearman['EN-WS-353-ALL.tsv'].spearman}\n`,
      );
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
const range = (xs: number[]): [number, number] => [round(Math.min(...xs)), round(Math.max(...xs))];

const summary: Record<string, unknown> = {};
for (const [key, runs] of Object.entries(results)) {
  summary[key] = {
    medianWordsPerSecond: Math.round(median(runs.map((x) => x.wordsPerSecond))),
    wordsPerSecondRange: range(runs.map((x) => x.wordsPerSecond)).map(Math.round),
    medianSeconds: round(median(runs.map((x) => x.seconds))),
    medianCpuSeconds: round(median(runs.map((x) => x.cpuSeconds))),
    medianTrainSeconds: runs[0].trainSeconds === null ? null : round(median(runs.map((x) => x.trainSeconds ?? 0))),
    medianSpearman: Object.fromEntries(simFiles.map((f) => [f, round(median(runs.map((x) => x.spearman[f].spearman)))])),
    spearmanRange: Object.fromEntries(simFiles.map((f) => [f, range(runs.map((x) => x.spearman[f].spearman))])),
    pairsUsed: Object.fromEntries(simFiles.map((f) => [f, { used: runs[0].spearman[f].used, oov: runs[0].spearman[f].oov }])),
    runs,
  };
}
type Summary = { medianWordsPerSecond: number; medianSeconds: number; medianSpearman: Record<string, number> };
const get = (key: string): Summary | undefined => summary[key] as Summary | undefined;
const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : round(a / b));
/** gensim's faster mode at a thread count (its fastest mode, whichever that was in this run) */
const fastestGensim = (t: number): string => {
  const a = get(`gensim-corpusfile-${t}t`);
  const b = get(`gensim-iterable-${t}t`);
  return (a?.medianWordsPerSecond ?? 0) >= (b?.medianWordsPerSecond ?? 0) ? `gensim-corpusfile-${t}t` : `gensim-iterable-${t}t`;
};
/** sets where ours reaches gensim's median Spearman (within 0.01) */
const withinNoise = (ours: string, peer: string): string[] =>
  simFiles.filter((f) => (get(ours)?.medianSpearman[f] ?? -1) >= (get(peer)?.medianSpearman[f] ?? 2) - 0.01);
const beats = (a: string, b: string): string[] => simFiles.filter((f) => (get(a)?.medianSpearman[f] ?? -1) >= (get(b)?.medianSpearman[f] ?? 2));
const result = {
  benchmark: 'sgns',
  corpus: corpusNames,
  rawWords,
  clock: 'end to end: runtime loaded -> exit (read the corpus file, vocabulary, train, write word2vec text); words/s = raw words x epochs / seconds',
  settings: { dim: 100, window: 5, negatives: 5, minCount: 5, sample: 1e-3, lr: 0.025, epochs, rounds, adaptive },
  ratioVsGensim1t: ratio(get('ours-popularity-1t')?.medianWordsPerSecond, get(fastestGensim(1))?.medianWordsPerSecond),
  ratioVsGensim2t: ratio(get('ours-popularity-2t')?.medianWordsPerSecond, get(fastestGensim(2))?.medianWordsPerSecond),
  gensimFastestMode: { '1t': fastestGensim(1), '2t': fastestGensim(2) },
  adaptiveTimeRatio1t: ratio(get('ours-adaptive-1t')?.medianSeconds, get('ours-popularity-1t')?.medianSeconds),
  adaptiveTimeRatio2t: ratio(get('ours-adaptive-2t')?.medianSeconds, get('ours-popularity-2t')?.medianSeconds),
  spearmanWithinNoiseOfGensim: { '1t': withinNoise('ours-popularity-1t', fastestGensim(1)), '2t': withinNoise('ours-popularity-2t', fastestGensim(2)) },
  adaptiveAtLeastPopularity: { '1t': beats('ours-adaptive-1t', 'ours-popularity-1t'), '2t': beats('ours-adaptive-2t', 'ours-popularity-2t') },
  systems: summary,
  environment: runEnvironment(),
};
emitResult(result, args.get('out'));
