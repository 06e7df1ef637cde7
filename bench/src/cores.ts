/**
 * Why a second SGD thread adds little here: each workload (skip-gram on the corpora, the
 * image-label kernel on a synthetic 200,000 x 20,000 model) trained three ways, alternated over
 * rounds: one process with one thread, one process with two Hogwild threads sharing one model,
 * and two one-thread processes at once (each its own model: no shared rows, no shared cache
 * lines, nothing to contend on but the machine). Throughput is the training loop's own work per
 * second (each CLI's trainSeconds, reading and writing apart), summed over the processes.
 *
 * Reading it: two processes near 2x one means two cores deliver two cores' worth of this work,
 * and a two-thread figure below that is the price of sharing the model (Hogwild writes to the
 * same rows and cache lines, the threads' hand-off); two processes well below 2x means the
 * machine itself (memory bandwidth, or vCPUs that are not two whole cores) is the limit, and no
 * change to the threads can beat it.
 *
 *   npm run bench:cores -- [--rounds 3] [--epochs 1] [--image-steps 20000000] [--out FILE]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpusSentences } from '@freshet/datasets';
import { numberArg, parseArgs } from './lib/args.js';
import { cliPath, trainWordsArgv } from './lib/cli.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { median } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, 'rounds', 3);
const epochs = numberArg(args, 'epochs', 1);
const imageSteps = numberArg(args, 'image-steps', 20_000_000);
const cli = cliPath;

const dir = mkdtempSync(join(tmpdir(), 'freshet-cores-'));
const corpusFile = join(dir, 'corpus.txt');
const sentences = loadCorpusSentences(['sotu', 'moby-dick']);
writeFileSync(corpusFile, sentences.map((s) => s.join(' ')).join('\n') + '\n');
const rawWords = sentences.reduce((n, s) => n + s.length, 0);

interface Workload {
  name: string;
  /** the CLI arguments for one run with `threads` threads */
  argv: (threads: number, seed: number) => string[];
  /** units of work one run does (words, SGD steps) */
  work: number;
  unit: string;
}

const workloads: Workload[] = [
  {
    name: 'skip-gram (sotu + moby-dick, dim 100, popularity negatives)',
    argv: (threads, seed) => trainWordsArgv({ corpus: corpusFile, epochs, threads, seed }),
    work: rawWords * epochs,
    unit: 'words',
  },
  {
    name: 'image-label kernel (synthetic 200,000 images x 20,000 labels, dim 64, default sampler)',
    argv: (threads, seed) => [
      'train-images',
      '--synthetic-images',
      '200000',
      '--synthetic-labels',
      '20000',
      '--steps',
      String(imageSteps),
      '--evals',
      '1',
      '--max-eval',
      '1',
      '--threads',
      String(threads),
      '--seed',
      String(seed),
      '--quiet',
    ],
    work: imageSteps,
    unit: 'steps',
  },
];

/** Runs the CLI once; resolves to its training-loop seconds. */
function runOnce(argv: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(' ')} failed (${code}): ${out.slice(-2000)}`));
      const json = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      resolvePromise((JSON.parse(json ?? '{}') as { trainSeconds: number }).trainSeconds);
    });
  });
}

const results = [];
for (const w of workloads) {
  const perSecond: Record<'oneThread' | 'twoThreads' | 'twoProcesses', number[]> = { oneThread: [], twoThreads: [], twoProcesses: [] };
  for (let r = 0; r < rounds; r++) {
    const seed = r + 1;
    perSecond.oneThread.push(w.work / (await runOnce(w.argv(1, seed))));
    perSecond.twoThreads.push(w.work / (await runOnce(w.argv(2, seed))));
    const both = await Promise.all([runOnce(w.argv(1, seed)), runOnce(w.argv(1, seed + 100))]);
    perSecond.twoProcesses.push(both.reduce((n, s) => n + w.work / s, 0));
    process.stderr.write(`cores ${w.unit} round ${r + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(perSecond).map(([k, v]) => [k, v[r]])))}\n`);
  }
  const ratios = (k: 'twoThreads' | 'twoProcesses'): number[] => perSecond[k].map((x, i) => x / perSecond.oneThread[i]);
  results.push({
    workload: w.name,
    unit: `${w.unit}/s`,
    perSecond,
    twoThreadsOverOne: { median: median(ratios('twoThreads')), min: Math.min(...ratios('twoThreads')), max: Math.max(...ratios('twoThreads')) },
    twoProcessesOverOne: { median: median(ratios('twoProcesses')), min: Math.min(...ratios('twoProcesses')), max: Math.max(...ratios('twoProcesses')) },
  });
}
emitResult({ benchmark: 'cores', rounds, epochs, imageSteps, results, environment: runEnvironment() }, args.get('out'));
