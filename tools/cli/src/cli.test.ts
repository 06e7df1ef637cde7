import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFile } from '@freshet/datasets';
import { parseOptions } from '@freshet/runtime';
import { trainImages, trainImagesOptions } from './train-images.js';
import { trainWords, trainWordsOptions } from './train-words.js';

describe('options', () => {
  it('applies defaults, converts values and names the bad option', () => {
    const v = parseOptions(trainImagesOptions, ['--lr', '0.05', '--sampler=warp']);
    expect(v.get('lr')).toBe(0.05);
    expect(v.get('sampler')).toBe('warp');
    expect(v.get('dim')).toBe(100);
    expect(() => parseOptions(trainImagesOptions, ['--lr', 'fast'])).toThrow(/--lr must be a number/);
    expect(() => parseOptions(trainImagesOptions, ['--sampler', 'magic'])).toThrow(/--sampler must be one of/);
    expect(() => parseOptions(trainImagesOptions, ['--nope', '1'])).toThrow(/unknown option --nope/);
    expect(parseOptions(trainWordsOptions, []).get('corpus')).toEqual(['sotu', 'moby-dick']);
  });
});

describe('train-images on Corel5k', () => {
  it('learns far above chance, reproducibly from the seed, and exports word2vec text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'freshet-cli-'));
    const args = [
      '--train',
      dataFile('corel5k-mulan', 'train.tsv'),
      '--test',
      dataFile('corel5k-mulan', 'test.tsv'),
      '--steps',
      '400000',
      '--evals',
      '1',
      '--seed',
      '3',
      '--quiet',
    ];
    const a = await trainImages(parseOptions(trainImagesOptions, [...args, '--out-labels', join(dir, 'labels.txt')]));
    const b = await trainImages(parseOptions(trainImagesOptions, args));
    expect(a.labels).toBe(374);
    // chance P@5 with one held-out label among ~370 is 5/370/5 ≈ 0.0027; a broken sampler or
    // update stays near it
    expect(a.final?.p5).toBeGreaterThan(0.05);
    expect(a.final?.auc).toBeGreaterThan(0.8);
    // same seed, same model: every metric equal (only the wall-clock seconds differ)
    expect({ ...b.final, seconds: 0 }).toEqual({ ...a.final, seconds: 0 });
    const lines = readFileSync(join(dir, 'labels.txt'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('374 100');
    expect(lines).toHaveLength(375);
    expect(lines[1].split(' ')).toHaveLength(101);
  });
});

describe('train-words', () => {
  it('learns word vectors whose similarities correlate with human judgements', async () => {
    const r = await trainWords(parseOptions(trainWordsOptions, ['--corpus', 'moby-dick', '--epochs', '1', '--dim', '50', '--neighbours', 'whale']));
    expect(r.vocabulary).toBeGreaterThan(3000);
    expect(r.similarity['EN-WS-353-ALL.tsv'].used).toBeGreaterThan(50);
    expect(r.similarity['EN-WS-353-ALL.tsv'].oov).toBeGreaterThan(0);
    expect(r.neighbours.whale).toHaveLength(8);
    expect(r.loss).toBeGreaterThan(0);
    expect(r.loss).toBeLessThan(Math.log(2) * 6);
  });
});

describe('Hogwild threads', () => {
  it('trains the image-label model on two worker threads sharing one model', async () => {
    const r = await trainImages(
      parseOptions(trainImagesOptions, ['--train', dataFile('corel5k-mulan', 'train.tsv'), '--steps', '400000', '--evals', '1', '--threads', '2', '--quiet']),
    );
    expect(r.steps).toBeGreaterThanOrEqual(400_000);
    expect(r.final?.p5).toBeGreaterThan(0.05);
    expect(r.samplerStats.draws).toBeGreaterThanOrEqual(400_000);
  });

  it('refuses threads with the js engine (the TypeScript reference runs one)', async () => {
    await expect(trainWords(parseOptions(trainWordsOptions, ['--corpus', 'moby-dick', '--threads', '2', '--engine', 'js']))).rejects.toThrow(
      /--engine js .* one thread/,
    );
  });

  it('trains skip-gram on two worker threads (wasm engine)', async () => {
    const r = await trainWords(
      parseOptions(trainWordsOptions, ['--corpus', 'moby-dick', '--epochs', '3', '--dim', '50', '--threads', '2', '--neighbours', 'whale', '--engine', 'wasm']),
    );
    expect(r.pairs).toBeGreaterThan(300_000);
    expect(r.loss).toBeGreaterThan(0);
    expect(r.loss).toBeLessThan(Math.log(2) * 6);
    // Moby Dick alone is too little for stable similarity scores, but the strongest
    // collocation of the book is learned by any working trainer
    expect(r.neighbours.whale).toContain('sperm');
  });
});
