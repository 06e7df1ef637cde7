/**
 * Zero-shot labels from text: a fifth of the label words of an image-label set are held out of
 * every image event, the image-label model trains on the rest, skip-gram trains on text
 * (SOTU, Moby Dick and WordNet's glosses), and the held-out labels get vectors from their words.
 * How well they are then ranked for the images that truly carry them, against chance, text
 * popularity and the same synthesis on gensim's vectors from the same text.
 *
 *   npm run bench:zero-shot -- [--seeds 1,2,3] [--sets corel5k,mirflickr25k] [--epochs 5] [--passes 30] [--out FILE]
 *
 * Per set and seed: hit@5, hit@10 and MAP over the held-out labels for every image that has one
 * (zero-shot: only held-out labels ranked; generalised: every label but the image's training
 * labels), and the seen labels' P@5 (one seen label per image held out of training) when ranked
 * alone and when the synthesised labels compete with them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Rng,
  labelWordVector,
  meanVector,
  labelWords,
  zeroShotLabels,
  ZERO_SHOT_METHODS,
  type LabeledImage,
  type WordVectors,
  type ZeroShotMethod,
} from '@freshet/core';
import { WORDNET_GLOSSES, dataFile, loadCorpusSentences, readImageLabelFile, readWord2VecText } from '@freshet/datasets';
import { ImageLabelFitter, imageLabelConfig, vseSamplerSpec } from '@freshet/kernels';
import { imageLabelsSettings } from '@freshet/pipeline';
import { parseArgs, numberArg } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { median, range } from './lib/stats.js';
import { precisionAt5, randomScores, rankScores, type RankCase, type RankScores } from './lib/zero-shot-eval.js';

const args = parseArgs(process.argv.slice(2));
const seeds = (args.get('seeds') ?? '1,2,3').split(',').map(Number);
const sets = (args.get('sets') ?? 'corel5k,mirflickr25k').split(',');
const epochs = numberArg(args, 'epochs', 5);
const passes = numberArg(args, 'passes', 30);
const HOLD_OUT = 0.2;
const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = resolve(benchRoot, '..', 'tools', 'cli', 'dist', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'freshet-zero-shot-'));
const corpora = ['sotu', 'moby-dick', WORDNET_GLOSSES];

const imageSets: Record<string, () => LabeledImage[]> = {
  corel5k: () => [...readImageLabelFile(dataFile('corel5k-mulan', 'train.tsv')), ...readImageLabelFile(dataFile('corel5k-mulan', 'test.tsv'))],
  mirflickr25k: () => readImageLabelFile(dataFile('mirflickr25k', 'all.tsv')),
};

// one corpus file for both systems: one sentence per line, as gensim's LineSentence reads it
const corpusFile = join(dir, 'corpus.txt');
const sentences = loadCorpusSentences(corpora);
writeFileSync(corpusFile, sentences.map((s) => s.join(' ')).join('\n') + '\n');
const textCounts = new Map<string, number>();
for (const s of sentences) for (const w of s) textCounts.set(w, (textCounts.get(w) ?? 0) + 1);
process.stderr.write(`[zero-shot] text: ${sentences.length} sentences, ${sentences.reduce((n, s) => n + s.length, 0)} words from ${corpora.join(', ')}\n`);

function run(cmd: string, cmdArgs: string[]): void {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
}

function wordVectors(file: string): WordVectors {
  const { vocab, vectors } = readWord2VecText(file);
  return {
    dim: vectors.cols,
    mean: meanVector(vectors.data, vocab.size, vectors.cols),
    vectorOf: (w) => {
      const id = vocab.idOf(w);
      return id < 0 ? null : vectors.data.subarray(id * vectors.cols, (id + 1) * vectors.cols);
    },
  };
}

/** Word vectors from both systems, same text, same settings (dim 100, window 5, 5 negatives, min count 5). */
function trainWords(seed: number): Record<'ours' | 'gensim', WordVectors> {
  const ours = join(dir, `ours-${seed}.vec`);
  run('node', [cli, 'train-words', '--corpus', corpusFile, '--epochs', String(epochs), '--seed', String(seed), '--evaluate', 'false', '--out', ours]);
  const gensim = join(dir, `gensim-${seed}.vec`);
  run('/usr/bin/python3', [join(benchRoot, 'python', 'gensim_sgns.py'), corpusFile, gensim, '1', String(epochs), String(seed), 'corpus_file']);
  return { ours: wordVectors(ours), gensim: wordVectors(gensim) };
}

interface SetRun {
  seed: number;
  labels: number;
  wordLabels: number;
  heldOutWords: string[];
  heldOutLabels: number;
  zeroShot: Record<string, RankScores>;
  generalised: Record<string, RankScores>;
  seenP5: Record<string, number>;
  chosen: Record<string, { setting: number; validationCosine: number } | null>;
}

async function runSet(name: string, seed: number, words: Record<'ours' | 'gensim', WordVectors>): Promise<SetRun> {
  const images = imageSets[name]();
  const rng = new Rng(seed * 7919 + name.length);
  const allLabels = [...new Set(images.flatMap((i) => i.labels))].sort();
  // a label is a word when both systems have vectors for all of its words: the same candidates for each
  const wordLabels = allLabels.filter((l) => labelWordVector(l, words.ours) !== null && labelWordVector(l, words.gensim) !== null);
  // hold out whole words: people and people_r1 name one word and go together
  const wordKeys = [...new Set(wordLabels.map((l) => labelWords(l).join(' ')))].sort();
  rng.shuffle(wordKeys);
  const heldWords = new Set(wordKeys.slice(0, Math.ceil(HOLD_OUT * wordKeys.length)));
  const held = new Set(wordLabels.filter((l) => heldWords.has(labelWords(l).join(' '))));
  // training: every image's seen labels but one (kept for the seen labels' P@5) when it has two or more
  const train: LabeledImage[] = [];
  const seenHeldOut = new Map<string, string>();
  for (const img of images) {
    const seen = img.labels.filter((l) => !held.has(l));
    if (seen.length >= 2) {
      const k = rng.nextInt(seen.length);
      seenHeldOut.set(img.id, seen[k]);
      seen.splice(k, 1);
    }
    if (seen.length > 0) train.push({ id: img.id, labels: seen });
  }
  const d = imageLabelsSettings.defaults;
  const fitter = await ImageLabelFitter.create(train, [], {
    config: imageLabelConfig(d),
    sampler: vseSamplerSpec(d),
    lr: d.lr,
    engine: 'wasm',
    threads: 1,
    seed,
  });
  const pairs = train.reduce((n, i) => n + i.labels.length, 0);
  await fitter.train(passes * pairs);
  const m = fitter.model;
  const seenNames = m.labels.allNames().slice();
  const seenRows = {
    names: seenNames,
    dim: m.dim,
    vectors: new Float32Array(seenNames.length * m.dim),
    biases: new Float32Array(seenNames.length),
  };
  for (let j = 0; j < seenNames.length; j++) {
    seenRows.vectors.set(m.labelVectors.data.subarray(j * m.width, j * m.width + m.dim), j * m.dim);
    seenRows.biases[j] = m.bias(j);
  }
  // one candidate index space: seen labels first, then the held-out ones
  const heldNames = [...held].sort();
  const index = new Map<string, number>([...seenNames, ...heldNames].map((n, i) => [n, i]));
  const heldIds = heldNames.map((n) => index.get(n) ?? -1);
  const allIds = [...index.values()];
  const seenIds = seenNames.map((n) => index.get(n) ?? -1);
  const imageOf = (id: string): Float32Array | null => {
    const i = m.images.idOf(id);
    return i < 0 ? null : m.imageVectors.data.subarray(i * m.width, i * m.width + m.dim);
  };
  // the images evaluated: trained (they have a vector) and carrying a held-out label
  const evalImages = images.filter((i) => imageOf(i.id) !== null && i.labels.some((l) => held.has(l)));
  const trainLabels = new Map(train.map((i) => [i.id, new Set(i.labels.map((l) => index.get(l) ?? -1))]));
  const zsCases: RankCase[] = evalImages.map((i) => ({
    truth: new Set(i.labels.filter((l) => held.has(l)).map((l) => index.get(l) ?? -1)),
    exclude: new Set(),
  }));
  const gCases: RankCase[] = evalImages.map((i, c) => ({ truth: zsCases[c].truth, exclude: trainLabels.get(i.id) ?? new Set() }));
  const p5Images = images.filter((i) => seenHeldOut.has(i.id) && imageOf(i.id) !== null);
  const p5Cases: RankCase[] = p5Images.map((i) => ({
    truth: new Set([index.get(seenHeldOut.get(i.id) ?? '') ?? -1]),
    exclude: trainLabels.get(i.id) ?? new Set(),
  }));

  const zeroShot: Record<string, RankScores> = { random: randomScores(zsCases, heldIds, seed) };
  const generalised: Record<string, RankScores> = { random: randomScores(gCases, allIds, seed) };
  const countOf = (label: string): number => {
    const ws = labelWords(label);
    return ws.reduce((s, w) => s + (textCounts.get(w) ?? 0), 0) / Math.max(1, ws.length);
  };
  const names = [...index.keys()];
  zeroShot['text-popularity'] = rankScores(zsCases, heldIds, (_c, id) => countOf(names[id]));
  generalised['text-popularity'] = rankScores(gCases, allIds, (_c, id) => countOf(names[id]));
  const seenScore =
    (imgs: readonly LabeledImage[]) =>
    (c: number, id: number): number => {
      const u = imageOf(imgs[c].id) as Float32Array;
      let s = seenRows.biases[id];
      for (let k = 0; k < m.dim; k++) s += u[k] * seenRows.vectors[id * m.dim + k];
      return s;
    };
  const seenP5: Record<string, number> = { 'seen labels alone': precisionAt5(p5Cases, seenIds, seenScore(p5Images)) };
  const chosen: SetRun['chosen'] = {};
  for (const system of ['ours', 'gensim'] as const) {
    for (const method of ZERO_SHOT_METHODS) {
      const key = `${method}-${system}`;
      const z = zeroShotLabels(method as ZeroShotMethod, seenRows, heldNames, words[system], seed);
      if (z.names.length !== heldNames.length) throw new Error(`${key}: ${heldNames.length - z.names.length} held-out labels got no vector`);
      chosen[key] = z.model === null ? null : { setting: z.model.chosen, validationCosine: z.model.validationCosine };
      const rows = new Float32Array(index.size * m.dim);
      const biases = new Float32Array(index.size);
      rows.set(seenRows.vectors, 0);
      biases.set(seenRows.biases, 0);
      rows.set(z.vectors, seenNames.length * m.dim);
      biases.set(z.biases, seenNames.length);
      const score =
        (imgs: readonly LabeledImage[]) =>
        (c: number, id: number): number => {
          const u = imageOf(imgs[c].id) as Float32Array;
          let s = biases[id];
          for (let k = 0; k < m.dim; k++) s += u[k] * rows[id * m.dim + k];
          return s;
        };
      zeroShot[key] = rankScores(zsCases, heldIds, score(evalImages));
      generalised[key] = rankScores(gCases, allIds, score(evalImages));
      seenP5[`with ${key} labels`] = precisionAt5(p5Cases, allIds, score(p5Images));
    }
  }
  await fitter.close();
  return {
    seed,
    labels: allLabels.length,
    wordLabels: wordLabels.length,
    heldOutWords: [...heldWords].sort(),
    heldOutLabels: held.size,
    zeroShot,
    generalised,
    seenP5,
    chosen,
  };
}

const runs: Record<string, SetRun[]> = Object.fromEntries(sets.map((s) => [s, []]));
for (const seed of seeds) {
  const words = trainWords(seed);
  for (const set of sets) {
    const r = await runSet(set, seed, words);
    runs[set].push(r);
    process.stderr.write(
      `[zero-shot] ${set} seed ${seed}: ${r.heldOutLabels} held-out labels; zero-shot hit@5 map-ours ${r.zeroShot['map-ours'].hit5.toFixed(3)}, mix-ours ${r.zeroShot['mix-ours'].hit5.toFixed(3)}, random ${r.zeroShot.random.hit5.toFixed(3)}\n`,
    );
  }
}

const stat = (xs: number[]) => ({ median: median(xs), range: range(xs) });
const summary = Object.fromEntries(
  sets.map((set) => {
    const rs = runs[set];
    const methods = Object.keys(rs[0].zeroShot);
    const table = (setting: 'zeroShot' | 'generalised') =>
      Object.fromEntries(
        methods.map((k) => [
          k,
          { hit5: stat(rs.map((r) => r[setting][k].hit5)), hit10: stat(rs.map((r) => r[setting][k].hit10)), map: stat(rs.map((r) => r[setting][k].map)) },
        ]),
      );
    const candidates = methods.filter((k) => k.endsWith('-ours'));
    // the method we ship: the better of ours by median zero-shot hit@5 over both sets is picked below
    const ratio = (k: string) => stat(rs.map((r) => r.zeroShot[k].hit5 / r.zeroShot.random.hit5));
    const vsGensim = (method: string) => stat(rs.map((r) => r.zeroShot[`${method}-ours`].hit5 / r.zeroShot[`${method}-gensim`].hit5));
    return [
      set,
      {
        zeroShot: table('zeroShot'),
        generalised: table('generalised'),
        seenP5: Object.fromEntries(Object.keys(rs[0].seenP5).map((k) => [k, stat(rs.map((r) => r.seenP5[k]))])),
        zeroShotHit5VsRandom: Object.fromEntries(candidates.map((k) => [k, ratio(k)])),
        hit5OursVsGensim: Object.fromEntries(ZERO_SHOT_METHODS.map((m) => [m, vsGensim(m)])),
      },
    ];
  }),
);
emitResult(
  {
    benchmark: 'zero-shot',
    environment: runEnvironment(),
    protocol: {
      text: corpora,
      wordSettings: { dim: 100, window: 5, negatives: 5, minCount: 5, epochs, threads: 1 },
      imageSettings: { ...imageLabelsSettings.defaults, passes },
      holdOut: `${HOLD_OUT * 100}% of the label words (with every label naming one), seeded; one more seen label per image with two or more held out for the seen labels' P@5`,
      seeds,
    },
    summary,
    runs,
  },
  args.get('out'),
);
