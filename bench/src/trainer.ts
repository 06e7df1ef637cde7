/**
 * The streaming trainer alone (no Kafka: events already on in-memory training topics) against
 * the offline WebAssembly kernels on the same data and settings, in one run: how much of the
 * kernels' speed the live path keeps, and what a second SGD thread adds.
 *
 *   npm run bench:trainer -- [--rounds 3] [--windows 40000] [--image-copies 1]
 *
 * Text windows: words/s of the trainer (tokens applied / seconds) vs offline `train-words`'s
 * kernel on the same windows as sentences (raw words / seconds, 1 epoch, 1 thread). Image-label
 * events: SGD steps/s of the trainer (event pairs plus replay) vs offline `train-images`'s kernel
 * with the same sampler, dimension and optimiser. MIRFLICKR-25k's 24,581 images are a third of a
 * second of trainer work, so start-up weighs on that figure: --image-copies N feeds the images N
 * times under new ids (a stream N times as long, the same label distribution) for a steady state. Same defaults as the trainer service: dim 64,
 * popularity negatives, AdaGrad with label biases and the auto sampler.
 */
import { Rng, SkipGramModel, defaultSkipGramConfig, type TokenCorpus } from '@freshet/core';
import { dataFile, loadCorpusSentences, readImageLabelFile } from '@freshet/datasets';
import { ImageLabelFitter, imageLabelConfig, trainSkipGramWasm, vseSamplerSpec } from '@freshet/kernels';
import { imageLabelsSettings, textWindowsSettings, toWindows } from '@freshet/pipeline';
import { numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';
import { median, range } from './lib/stats.js';
import { trainerAlone, type TrainerAloneResult } from './lib/trainer-alone.js';

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, 'rounds', 3);
const maxWindows = numberArg(args, 'windows', 40_000);
const imageCopies = numberArg(args, 'image-copies', 1);
const mirflickr = readImageLabelFile(dataFile('mirflickr25k', 'all.tsv'));
const images = Array.from({ length: imageCopies }, (_, k) => mirflickr.map((img) => (k === 0 ? img : { ...img, id: `${img.id}#${k}` }))).flat();
const windows = ['sotu', 'moby-dick'].flatMap((c) => toWindows(c, loadCorpusSentences([c]), 24)).slice(0, maxWindows);
/** The trainer service's defaults: what the live path runs, and the offline kernels are given the same. */
const defaults = { images: imageLabelsSettings.defaults, words: textWindowsSettings.defaults };

/** Offline skip-gram kernel, 1 thread, on the same windows (one sentence each), one epoch. */
async function offlineWords(seed: number): Promise<number> {
  const names = new Map<string, number>();
  const counts: number[] = [];
  const ids: number[] = [];
  const starts = [0];
  for (const w of windows) {
    for (const t of w.tokens) {
      let id = names.get(t);
      if (id === undefined) {
        id = names.size;
        names.set(t, id);
        counts.push(0);
      }
      counts[id]++;
      ids.push(id);
    }
    starts.push(ids.length);
  }
  const w = defaults.words;
  const model = new SkipGramModel(
    { ...defaultSkipGramConfig, dim: w.dim, window: w.window, negatives: w.negatives, sample: w.sample, vocabCap: names.size },
    new Rng(seed),
  );
  for (const [name, id] of names) model.vocab.increment(model.wordId(name), counts[id]);
  const corpus: TokenCorpus = { ids: Int32Array.from(ids), starts: Int32Array.from(starts) };
  const r = await trainSkipGramWasm(model, corpus, {
    epochs: 1,
    lr: 0.025,
    minLr: 0.025e-4,
    threads: 1,
    seed,
    sampler: 'popularity',
    alpha: w.alpha,
    lambdaFraction: w.lambdaFraction,
    mixShare: w.mixShare,
    refreshEvery: 0,
  });
  return ids.length / r.seconds;
}

/** Offline image-label kernel, 1 thread, same settings: SGD steps per second over 2 s. */
async function offlineImageSteps(seed: number): Promise<number> {
  const i = defaults.images;
  const trainer = await ImageLabelFitter.create(images, [], {
    config: imageLabelConfig(i),
    sampler: vseSamplerSpec(i),
    lr: i.lr,
    engine: 'wasm',
    threads: 1,
    seed,
  });
  await trainer.train(100_000);
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < 2000) {
    await trainer.train(20_000);
    steps += 20_000;
  }
  const seconds = (performance.now() - t0) / 1000;
  await trainer.close();
  return steps / seconds;
}

const runs: Array<{
  round: number;
  offline: { wordsPerSecond: number; imageStepsPerSecond: number };
  text: TrainerAloneResult[];
  images: TrainerAloneResult[];
  mixed: TrainerAloneResult[];
}> = [];
for (let r = 1; r <= rounds; r++) {
  const offline = { wordsPerSecond: await offlineWords(r), imageStepsPerSecond: await offlineImageSteps(r) };
  const text: TrainerAloneResult[] = [];
  const imageRuns: TrainerAloneResult[] = [];
  const mixed: TrainerAloneResult[] = [];
  for (const threads of [1, 2]) {
    text.push(await trainerAlone([], windows, { threads, seed: r }));
    imageRuns.push(await trainerAlone(images, [], { threads, seed: r }));
    mixed.push(await trainerAlone(images, windows.slice(0, 20_000), { threads, seed: r }));
  }
  runs.push({ round: r, offline, text, images: imageRuns, mixed });
  process.stderr.write(
    `[trainer] round ${r}: offline ${Math.round(offline.wordsPerSecond)} words/s, ${Math.round(offline.imageStepsPerSecond)} steps/s; trainer text ${text.map((t) => Math.round(t.wordsPerSecond)).join(' / ')} words/s (1t / 2t), images ${imageRuns.map((t) => Math.round(t.imageStepsPerSecond)).join(' / ')} steps/s\n`,
  );
}
const pick = (f: (x: (typeof runs)[number]) => number): { median: number; range: [number, number] } => ({
  median: median(runs.map(f)),
  range: range(runs.map(f)),
});
const result = {
  benchmark: 'trainer',
  data: { images: images.length, windows: windows.length, tokens: windows.reduce((n, w) => n + w.tokens.length, 0) },
  settings: { rounds, imageCopies, trainer: { images: defaults.images, words: defaults.words } },
  offline: { wordsPerSecond1t: pick((x) => x.offline.wordsPerSecond), imageStepsPerSecond1t: pick((x) => x.offline.imageStepsPerSecond) },
  trainer: {
    textWordsPerSecond: { '1t': pick((x) => x.text[0].wordsPerSecond), '2t': pick((x) => x.text[1].wordsPerSecond) },
    imageStepsPerSecond: { '1t': pick((x) => x.images[0].imageStepsPerSecond), '2t': pick((x) => x.images[1].imageStepsPerSecond) },
    imageLabelPairsPerSecond: { '1t': pick((x) => x.images[0].labelPairsPerSecond), '2t': pick((x) => x.images[1].labelPairsPerSecond) },
    mixedEventsPerSecond: { '1t': pick((x) => x.mixed[0].eventsPerSecond), '2t': pick((x) => x.mixed[1].eventsPerSecond) },
    healthLatencyP99Ms: pick((x) => Math.max(...[...x.text, ...x.images, ...x.mixed].map((t) => t.healthLatencyMs.p99))),
  },
  ratios: {
    textVsOffline1t: pick((x) => x.text[0].wordsPerSecond / x.offline.wordsPerSecond),
    textTwoThreadsVsOne: pick((x) => x.text[1].wordsPerSecond / x.text[0].wordsPerSecond),
    imagesVsOffline1t: pick((x) => x.images[0].imageStepsPerSecond / x.offline.imageStepsPerSecond),
    imagesTwoThreadsVsOne: pick((x) => x.images[1].imageStepsPerSecond / x.images[0].imageStepsPerSecond),
  },
  goals: { textVsOffline1t: '>= 0.6', textTwoThreadsVsOne: '>= 1.5', imagesVsOffline1t: '>= 0.6', healthLatency: 'p99 <= 100 ms' },
  runs,
  environment: runEnvironment(),
};
emitResult(result, args.get('out'));
process.exit(0);
