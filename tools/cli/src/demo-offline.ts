import { join } from 'node:path';
import { dataDir } from '@freshet/datasets';
import { parseOptions, type OptionSpec, type OptionValues } from '@freshet/runtime';
import { trainImages, trainImagesOptions } from './train-images.js';
import { trainWords, trainWordsOptions } from './train-words.js';

export const demoOfflineOptions: OptionSpec[] = [
  { name: 'seconds', kind: 'number', default: 3, help: 'image-label training time' },
  { name: 'epochs', kind: 'number', default: 2, help: 'skip-gram epochs over the @stdlib corpora' },
  { name: 'seed', kind: 'number', default: 1, help: 'random seed' },
];

const say = (line = ''): void => {
  process.stdout.write(line + '\n');
};

/**
 * The offline end-to-end demo: both models on real data, with what they learned in plain words,
 * and one JSON object with the figures as the last line.
 */
export async function demoOffline(v: OptionValues): Promise<Record<string, unknown>> {
  const seed = String(v.get('seed'));
  const mir = join(dataDir(), 'mirflickr25k', 'all.tsv');
  say('freshet demo: image-label embeddings (MIRFLICKR-25k, adaptive sampler) and word vectors (@stdlib SOTU + Moby Dick)');
  say('');
  say(`1) Image annotation: ${mir}, one held-out label per image, ${String(v.get('seconds'))} s of training`);
  const images = await trainImages(
    parseOptions(trainImagesOptions, [
      '--train',
      mir,
      '--sampler',
      'adaptive',
      '--lr',
      '0.01',
      '--lambda',
      '0.3',
      '--seconds',
      String(v.get('seconds')),
      '--evals',
      '8',
      '--seed',
      seed,
    ]),
  );
  say('   seconds  steps      P@5     MAP');
  for (const c of images.curve) say(`   ${c.seconds.toFixed(2).padStart(7)}  ${String(c.steps).padEnd(9)}  ${c.p5.toFixed(3)}  ${c.map.toFixed(3)}`);
  say(`   ${images.images} images, ${images.labels} labels, ${images.usPerStep.toFixed(2)} µs per SGD step`);
  say('');
  say(`2) Skip-gram, ${String(v.get('epochs'))} epochs, popularity negatives`);
  const words = await trainWords(parseOptions(trainWordsOptions, ['--epochs', String(v.get('epochs')), '--seed', seed]));
  say(`   ${words.rawWords} words, vocabulary ${words.vocabulary}, ${Math.round(words.wordsPerSecond)} words/s`);
  for (const [w, ns] of Object.entries(words.neighbours)) say(`   ${w.padEnd(8)} -> ${ns.join(', ')}`);
  for (const [f, r] of Object.entries(words.similarity))
    say(`   ${f.padEnd(22)} Spearman ${r.spearman.toFixed(3)} (${r.used} pairs, ${r.oov} out of vocabulary)`);
  const summary = {
    demo: 'offline',
    imageLabels: {
      dataset: 'mirflickr25k/all.tsv',
      p5OverTime: images.curve.map((c) => [Number(c.seconds.toFixed(3)), Number(c.p5.toFixed(4))]),
      finalP5: images.final?.p5 ?? null,
      finalMap: images.final?.map ?? null,
    },
    words: {
      wordsPerSecond: Math.round(words.wordsPerSecond),
      spearman: Object.fromEntries(Object.entries(words.similarity).map(([f, r]) => [f, Number(r.spearman.toFixed(4))])),
      neighbours: words.neighbours,
    },
  };
  say('');
  return summary;
}
