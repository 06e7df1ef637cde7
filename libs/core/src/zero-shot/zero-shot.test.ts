import { describe, expect, it } from 'vitest';
import { Rng } from '../math/rng.js';
import { labelWordVector, labelWords, unit, type WordVectors } from './label-words.js';
import { fitZeroShot, MIN_SEEN_LABELS } from './zero-shot.js';
import { zeroShotLabels } from './synthesise.js';

function table(entries: Record<string, number[]>): WordVectors {
  const dim = Object.values(entries)[0].length;
  return { dim, vectorOf: (w) => (w in entries ? Float32Array.from(entries[w]) : null) };
}

/** Words in 12 dimensions, labels in 6: label = A · word + bias, A fixed: a link a map can learn exactly. */
function linkedWorld(count: number, seed: number) {
  const rng = new Rng(seed);
  const wordDim = 12;
  const dim = 6;
  const a = Float32Array.from({ length: dim * wordDim }, () => rng.nextGaussian());
  const words: Record<string, number[]> = {};
  const names: string[] = [];
  const vectors = new Float32Array(count * dim);
  const biases = new Float32Array(count);
  for (let j = 0; j < count; j++) {
    const name = `w${String.fromCharCode(97 + (j % 26))}${String.fromCharCode(97 + Math.floor(j / 26))}`;
    const w = unit(Float32Array.from({ length: wordDim }, () => rng.nextGaussian()));
    words[name] = Array.from(w);
    names.push(name);
    for (let d = 0; d < dim; d++) for (let e = 0; e < wordDim; e++) vectors[j * dim + d] += a[d * wordDim + e] * w[e];
    biases[j] = 0.5 * w[0];
  }
  return { words: table(words), names, vectors, biases, dim };
}

describe('label words', () => {
  it('splits at separators and drops tokens with digits, as documented', () => {
    expect(labelWords('plant_life')).toEqual(['plant', 'life']);
    expect(labelWords('people_r1')).toEqual(['people']);
    expect(labelWords('Sky')).toEqual(['sky']);
    expect(labelWords('r1')).toEqual([]);
  });

  it('places a label by all of its words or not at all', () => {
    const words = table({ plant: [1, 0], life: [0, 2] });
    expect(Array.from(labelWordVector('plant_life', words) ?? [])).toEqual([Math.SQRT1_2, Math.SQRT1_2].map((x) => Math.fround(x)));
    expect(labelWordVector('plant_food', words)).toBeNull();
    expect(labelWordVector('42', words)).toBeNull();
  });

  it("removes the vocabulary's common direction before placing a label, when given the mean", () => {
    // both words are mostly the shared direction (0, 0, 10): alike raw, opposite once it is removed
    const raw = table({ sky: [1, 0, 10], sea: [-1, 0, 10] });
    const centred = { ...raw, mean: Float32Array.from([0, 0, 10]) };
    const dot = (a: Float32Array | null, b: Float32Array | null): number => {
      let out = 0;
      for (let k = 0; k < (a?.length ?? 0); k++) out += (a?.[k] ?? 0) * (b?.[k] ?? 0);
      return out;
    };
    expect(dot(labelWordVector('sky', raw), labelWordVector('sea', raw))).toBeGreaterThan(0.95);
    expect(dot(labelWordVector('sky', centred), labelWordVector('sea', centred))).toBeCloseTo(-1, 5);
  });
});

describe('zero-shot label vectors', () => {
  it('the map recovers labels it was not fit on when the link is linear; the mix does worse there', () => {
    const world = linkedWorld(120, 3);
    const seenCount = 100;
    const seen = {
      names: world.names.slice(0, seenCount),
      dim: world.dim,
      vectors: world.vectors.slice(0, seenCount * world.dim),
      biases: world.biases.slice(0, seenCount),
    };
    const cosines: Record<string, number> = {};
    for (const method of ['map', 'mix'] as const) {
      const z = zeroShotLabels(method, seen, world.names, world.words, 5);
      expect(z.names).toEqual(world.names.slice(seenCount));
      expect(z.skipped).toBe(seenCount);
      expect(z.seenWithWords).toBe(seenCount);
      let total = 0;
      for (let j = 0; j < z.names.length; j++) {
        const truth = world.vectors.subarray((seenCount + j) * world.dim, (seenCount + j + 1) * world.dim);
        const got = z.vectors.subarray(j * world.dim, (j + 1) * world.dim);
        let d = 0;
        let a = 0;
        let b = 0;
        for (let c = 0; c < world.dim; c++) {
          d += truth[c] * got[c];
          a += truth[c] * truth[c];
          b += got[c] * got[c];
        }
        total += d / Math.sqrt(a * b);
      }
      cosines[method] = total / z.names.length;
    }
    expect(cosines.map).toBeGreaterThan(0.99);
    expect(cosines.mix).toBeLessThan(cosines.map);
  });

  it('fits nothing below the minimum of seen labels, and says so', () => {
    const world = linkedWorld(MIN_SEEN_LABELS - 1, 4);
    const seen = { count: MIN_SEEN_LABELS - 1, wordDim: 12, labelWidth: 7, words: new Float32Array(9 * 12), labels: new Float32Array(9 * 7) };
    expect(fitZeroShot('map', seen)).toBeNull();
    const z = zeroShotLabels('map', { names: world.names, dim: world.dim, vectors: world.vectors, biases: world.biases }, ['zz'], world.words);
    expect(z.model).toBeNull();
    expect(z.names).toEqual([]);
  });

  it('is reproducible from its seed', () => {
    const world = linkedWorld(60, 9);
    const seen = { names: world.names.slice(0, 50), dim: world.dim, vectors: world.vectors.slice(0, 50 * world.dim), biases: world.biases.slice(0, 50) };
    const a = zeroShotLabels('mix', seen, world.names, world.words, 2);
    const b = zeroShotLabels('mix', seen, world.names, world.words, 2);
    expect(a.vectors).toEqual(b.vectors);
    expect(a.model?.chosen).toBe(b.model?.chosen);
  });
});
