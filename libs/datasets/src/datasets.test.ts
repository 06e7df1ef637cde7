import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORDNET_GLOSSES, encodeCorpus, loadCorpusSentences, sentences, tokenize } from './text.js';
import { generateSynthetic } from './synthetic.js';
import { parseImageLabels, readImageLabelFile, dataDir, dataFile } from './files.js';
import { readDelicious, readGowalla, readMirflickrTags, readSparseArffLabels } from './large-sets.js';

describe('image-label files', () => {
  it('parses the shared format and rejects lines without a tab', () => {
    expect(parseImageLabels('1\tsky sea\n\n2\tsun\n')).toEqual([
      { id: '1', labels: ['sky', 'sea'] },
      { id: '2', labels: ['sun'] },
    ]);
    expect(() => parseImageLabels('oops\n', 'x.tsv')).toThrow(/x.tsv:1/);
  });

  it('leaves a byte-order mark out of the first image id (the first pairs were lost to it)', () => {
    expect(parseImageLabels('\uFEFF1\tsky\r\n2\tsun\r\n')).toEqual([
      { id: '1', labels: ['sky'] },
      { id: '2', labels: ['sun'] },
    ]);
  });

  it('reads Corel5k from data/ with the counts its provenance states', () => {
    const train = readImageLabelFile(dataFile('corel5k-mulan', 'train.tsv'));
    expect(train).toHaveLength(4500);
    expect(train.reduce((s, i) => s + i.labels.length, 0)).toBe(15_847);
  });

  it('names the missing file and the setting that fixes it', () => {
    expect(() => readImageLabelFile(join(dataDir(), 'nope.tsv'))).toThrow(/FRESHET_DATA_DIR/);
    expect(existsSync(dataDir())).toBe(true);
  });
});

describe('text', () => {
  it('tokenises and splits sentences', () => {
    expect(tokenize("The whale's Back, 1851!")).toEqual(['the', "whale's", 'back', '1851']);
    expect(sentences('Call me Ishmael. Some years ago\n\nnever mind')).toEqual([
      ['call', 'me', 'ishmael'],
      ['some', 'years', 'ago'],
      ['never', 'mind'],
    ]);
  });

  it('loads the @stdlib corpora (about 2M words) and encodes them by frequency', () => {
    const sents = loadCorpusSentences(['sotu', 'moby-dick']);
    const corpus = encodeCorpus(sents, 5);
    expect(corpus.rawWords).toBeGreaterThan(1_900_000);
    expect(corpus.vocab.size).toBeGreaterThan(10_000);
    expect(corpus.vocab.nameOf(0)).toBe('the');
    expect(corpus.vocab.count(0)).toBeGreaterThanOrEqual(corpus.vocab.count(1));
    expect(corpus.starts[corpus.starts.length - 1]).toBe(corpus.ids.length);
  });

  it("reads WordNet's glosses as one sentence per synset, its words before its definition", () => {
    const sents = loadCorpusSentences([WORDNET_GLOSSES]);
    // WordNet 3.1 has 117,791 synsets over the four data files
    expect(sents.length).toBeGreaterThan(117_000);
    const zebra = sents.find((s) => s[0] === 'zebra' && s.includes('striped'));
    expect(zebra, 'the synset of the animal zebra and its gloss').toBeDefined();
    // multi-word lemmas split at underscores, adjective markers such as (a) dropped
    expect(sents.some((s) => s[0] === 'zebra' && s[1] === 'finch')).toBe(true);
    expect(sents.every((s) => s.every((t) => !t.includes('_')))).toBe(true);
  });
});

describe('synthetic image-label data', () => {
  it('is reproducible from its seed, long-tailed, and uses labels up to the requested count', () => {
    const opts = { images: 3000, labels: 1000, rank: 8, zipf: 1, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: 7 };
    const a = generateSynthetic(opts);
    expect(generateSynthetic(opts)).toEqual(a);
    expect(generateSynthetic({ ...opts, seed: 8 })).not.toEqual(a);
    const counts = new Map<string, number>();
    for (const img of a) for (const l of img.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const sorted = [...counts.values()].sort((x, y) => y - x);
    // long tail: the top 1% of labels carry far more than 1% of assignments
    const total = sorted.reduce((s, c) => s + c, 0);
    const head = sorted.slice(0, 10).reduce((s, c) => s + c, 0);
    expect(head / total).toBeGreaterThan(0.1);
    expect(counts.size).toBeGreaterThan(500);
    const mean = total / a.length;
    expect(mean).toBeGreaterThan(3);
    expect(mean).toBeLessThan(5);
  });

  it('scales to 100,000 labels', () => {
    const big = generateSynthetic({ images: 2000, labels: 100_000, rank: 16, zipf: 0.8, meanLabels: 4, topicsPerImage: 2, noise: 0.05, seed: 1 });
    expect(big).toHaveLength(2000);
  });
});

describe('the label-space-scale sets (counts from their PROVENANCE.md)', () => {
  const stats = (images: ReadonlyArray<{ labels: string[] }>) => ({
    images: images.length,
    labels: new Set(images.flatMap((i) => i.labels)).size,
    pairs: images.reduce((n, i) => n + i.labels.length, 0),
  });

  it('Gowalla: 29,858 users x 40,979 locations in train, and the transpose', () => {
    expect(stats(readGowalla('train'))).toEqual({ images: 29_858, labels: 40_979, pairs: 719_081 });
    expect(stats(readGowalla('valid'))).toEqual({ images: 29_858, labels: 31_583, pairs: 91_047 });
    expect(stats(readGowalla('test'))).toEqual({ images: 29_858, labels: 38_546, pairs: 217_242 });
    expect(stats(readGowalla('train', { transpose: true }))).toEqual({ images: 40_979, labels: 29_858, pairs: 719_081 });
  });

  it('MIRFLICKR-25k user tags: 20,015 images x 1,386 tags', () => {
    expect(stats(readMirflickrTags())).toEqual({ images: 20_015, labels: 1386, pairs: 92_808 });
  });

  it('Delicious: 16,091 tagged pages x 983 tags, from the sparse ARFF', () => {
    expect(stats(readDelicious())).toEqual({ images: 16_091, labels: 983, pairs: 306_317 });
    const tiny = '@relation t\n@attribute w0 {0,1}\n@attribute TAG_a {0,1}\n@attribute TAG_b {0,1}\n@data\n{0 1,2 1}\n{0 1}\n{1 1,2 1}\n';
    expect(readSparseArffLabels(tiny, 'TAG_')).toEqual([
      { id: '0', labels: ['b'] },
      { id: '2', labels: ['a', 'b'] },
    ]);
  });
});
