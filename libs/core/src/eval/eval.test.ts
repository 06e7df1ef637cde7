import { describe, expect, it } from 'vitest';
import { Matrix } from '../math/matrix.js';
import { Rng } from '../math/rng.js';
import { ImageLabelModel, defaultImageLabelConfig } from '../models/image-label.js';
import { Vocabulary } from '../vocabulary.js';
import { evaluateAnnotation, resolvePairs } from './annotation.js';
import { nearest, rowNorms } from './neighbours.js';
import { evaluateSimilarity, parseSimilarityFile, spearman } from './similarity.js';
import { holdOutShare, leaveOneOut, mergeById } from './split.js';
import { fullRanking, type RankingModel } from './full-ranking.js';

describe('leave-one-out split', () => {
  it('holds out one label of each image with >= 2 labels and keeps every image in training', () => {
    const images = [
      { id: 'a', labels: ['x', 'y', 'z'] },
      { id: 'b', labels: ['x'] },
      { id: 'c', labels: ['y', 'y', 'z'] },
    ];
    const split = leaveOneOut(images, new Rng(1));
    expect(split.train.map((t) => t.id)).toEqual(['a', 'b', 'c']);
    expect(split.test.map((t) => t.id)).toEqual(['a', 'c']);
    for (const t of split.test) {
      const train = split.train.find((x) => x.id === t.id);
      expect(train?.labels).not.toContain(t.label);
      expect(train?.labels.length).toBeGreaterThanOrEqual(1);
    }
    expect(mergeById([{ id: 'a', labels: ['x'] }], [{ id: 'a', labels: ['y'] }])).toEqual([{ id: 'a', labels: ['x', 'y'] }]);
  });
});

describe('annotation metrics', () => {
  it('ranks the held-out label among non-training labels', () => {
    const model = new ImageLabelModel({ ...defaultImageLabelConfig, dim: 1 }, new Rng(2));
    model.observe('img', ['train-label']);
    for (let a = 0; a < 12; a++) model.labelId(`l${a}`);
    const u = model.imageVectors.data;
    const v = model.labelVectors.data;
    // rows are padded to the kernels' SIMD width: component 0 of row r is at r * width
    const w = model.width;
    u[0] = 1;
    v[0] = 100; // the training label scores highest but is filtered out
    for (let a = 0; a < 12; a++) v[model.labelId(`l${a}`) * w] = 12 - a; // l0 best ... l11 worst
    const rank3 = evaluateAnnotation(model, resolvePairs(model, [{ id: 'img', label: 'l2' }]), new Rng(3));
    expect(rank3.p5).toBeCloseTo(1 / 5, 10);
    expect(rank3.r10).toBe(1);
    expect(rank3.map).toBeCloseTo(1 / 3, 10);
    expect(rank3.auc).toBeGreaterThan(0);
    const rank12 = evaluateAnnotation(model, resolvePairs(model, [{ id: 'img', label: 'l11' }]), new Rng(3));
    expect(rank12.p5).toBe(0);
    expect(rank12.p10).toBe(0);
    expect(rank12.map).toBeCloseTo(1 / 12, 10);
    expect(rank12.auc).toBe(0);
    // a diverged model (NaN scores) must score as the worst ranking, not the best
    v.fill(Number.NaN);
    const diverged = evaluateAnnotation(model, resolvePairs(model, [{ id: 'img', label: 'l2' }]), new Rng(3));
    expect(diverged.p5).toBe(0);
    expect(diverged.map).toBeLessThan(0.1);
    const unknown = evaluateAnnotation(model, resolvePairs(model, [{ id: 'nope', label: 'l1' }]), new Rng(3));
    expect(unknown.unknown).toBe(1);
    expect(unknown.p5).toBe(0);
  });
});

describe('word similarity', () => {
  it('computes Spearman with average ranks for ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 10);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 10);
    // ties: x ranks 1.5,1.5,3 ; y ranks 1,2,3 -> r = 0.866
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 6);
  });

  it('parses pair files, counts out-of-vocabulary pairs and falls back to lower case', () => {
    const pairs = parseSimilarityFile('Cat\tdog\t8\r\ncat\tcar\t2\n\nzebra\tdog\t5\n');
    expect(pairs).toHaveLength(3);
    const vocab = Vocabulary.fromNames(['cat', 'dog', 'car']);
    const m = new Matrix(2, 3);
    m.data.set([1, 0, 0.9, 0.1, 0, 1]);
    const r = evaluateSimilarity(vocab, m, pairs);
    expect(r.used).toBe(2);
    expect(r.oov).toBe(1);
    expect(r.spearman).toBeCloseTo(1, 10);
    expect(() => parseSimilarityFile('a\tb\n')).toThrow(/word1<TAB>word2<TAB>score/);
  });
});

describe('nearest neighbours', () => {
  it('returns the top rows by cosine, best first', () => {
    const m = new Matrix(2, 4);
    m.data.set([1, 0, 0.7, 0.7, 0, 1, -1, 0]);
    const res = nearest(Float32Array.from([1, 0.1]), m, 2, rowNorms(m));
    expect(res.map((r) => r.id)).toEqual([0, 1]);
    const skipFirst = nearest(Float32Array.from([1, 0.1]), m, 2, rowNorms(m), (id) => id === 0);
    expect(skipFirst.map((r) => r.id)).toEqual([1, 2]);
  });
});

describe('full-ranking metrics', () => {
  // 1-dimensional: label l scores l (image vector [1]); 30 labels, rank 0 is label 29
  const model: RankingModel = {
    dim: 1,
    labelCount: 30,
    labelVectors: Float32Array.from({ length: 30 }, (_, l) => l),
    labelBiases: null,
    imageVector: () => Float32Array.of(1),
  };

  it('ranks every label the image did not train on and scores the held-out ones against it', () => {
    // trained on 29 (left out): 28 is first, 27 second; held out: 28 (rank 0) and 5 (rank 23: 6 to 28 above it)
    const s = fullRanking(model, [{ image: 0, trained: Int32Array.of(29), truth: Int32Array.of(5, 28) }]);
    expect(s.images).toBe(1);
    expect(s.recall20).toBe(0.5);
    expect(s.ndcg20).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 10);
    expect(s.p5).toBe(0.2);
    expect(s.map).toBeCloseTo((1 / 1 + 2 / 24) / 2, 10);
  });

  it('adds the label biases and averages over images, skipping images with nothing held out', () => {
    const biased = { ...model, labelBiases: Float32Array.from({ length: 30 }, (_, l) => (l === 0 ? 100 : 0)) };
    const s = fullRanking(biased, [
      { image: 0, trained: Int32Array.of(), truth: Int32Array.of(0) },
      { image: 1, trained: Int32Array.of(), truth: Int32Array.of() },
      { image: 2, trained: Int32Array.of(), truth: Int32Array.of(1) },
    ]);
    expect(s.images).toBe(2);
    // label 0 is first (bias 100); label 1 is last of 30 (rank 29): out of the top 20
    expect(s.recall20).toBe(0.5);
    expect(s.map).toBeCloseTo((1 + 1 / 30) / 2, 10);
  });
});

describe("holding out a share of each image's labels", () => {
  it('holds out about the share, at least one, never all, seeded', () => {
    const images = [
      { id: 'a', labels: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] },
      { id: 'b', labels: ['1', '2'] },
      { id: 'c', labels: ['1'] },
    ];
    const s = holdOutShare(images, 0.2, new Rng(3));
    expect(s.train.map((i) => i.labels.length)).toEqual([8, 1, 1]);
    expect(s.test.map((i) => [i.id, i.labels.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(new Set([...s.train[0].labels, ...s.test[0].labels]).size).toBe(10);
    expect(holdOutShare(images, 0.2, new Rng(3))).toEqual(s);
  });

  it('agrees with counting every label above each held-out one, ties and many held-out labels included, and with a supplied scorer', () => {
    const rng = new Rng(7);
    const n = 500;
    const dim = 3;
    // coarse values: many exact ties, which break by the lower index
    const labelVectors = Float32Array.from({ length: n * dim }, () => rng.nextInt(4));
    const images = Array.from({ length: 40 }, () => Float32Array.from({ length: dim }, () => rng.nextInt(3)));
    const cases = images.map((_, image) => {
      const picked = [...new Set(Array.from({ length: 1 + rng.nextInt(60) }, () => rng.nextInt(n)))];
      const cut = rng.nextInt(picked.length);
      return { image, trained: Int32Array.from(picked.slice(0, cut)), truth: Int32Array.from(picked.slice(cut)) };
    });
    const plain: RankingModel = { dim, labelCount: n, labelVectors, labelBiases: null, imageVector: (i) => images[i] };
    const score = (i: number, l: number): number => images[i].reduce((s, x, d) => s + x * labelVectors[l * dim + d], 0);
    // the definition, label by label
    let recall = 0;
    let map = 0;
    let counted = 0;
    for (const c of cases) {
      if (c.truth.length === 0) continue;
      const trained = new Set(c.trained);
      const ranks = Array.from(c.truth, (t) => {
        let above = 0;
        for (let l = 0; l < n; l++)
          if (!trained.has(l) && (score(c.image, l) > score(c.image, t) || (score(c.image, l) === score(c.image, t) && l < t))) above++;
        return above;
      }).sort((a, b) => a - b);
      recall += ranks.filter((r) => r < 20).length / ranks.length;
      map += ranks.reduce((s, r, j) => s + (j + 1) / (r + 1), 0) / ranks.length;
      counted++;
    }
    const fast = fullRanking(plain, cases);
    expect(fast.images).toBe(counted);
    expect(fast.recall20).toBeCloseTo(recall / counted, 12);
    expect(fast.map).toBeCloseTo(map / counted, 12);
    // a block scorer (3 images at once: the last block is partial)
    const scorer = {
      block: 3,
      score: (ids: Int32Array, into: Float32Array) =>
        ids.forEach((i, b) =>
          into.set(
            Float32Array.from({ length: n }, (_, l) => score(i, l)),
            b * n,
          ),
        ),
    };
    const supplied = fullRanking({ ...plain, scorer }, cases);
    expect({ ...supplied, seconds: 0 }).toEqual({ ...fast, seconds: 0 });
  });
});
