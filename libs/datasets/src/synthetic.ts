import { AliasTable, Rng, type LabeledImage } from '@freshet/core';

export interface SyntheticOptions {
  images: number;
  labels: number;
  /** planted rank: labels fall into this many latent topics */
  rank: number;
  /** Zipf exponent of label popularity (long tail) */
  zipf: number;
  /** mean labels per image (at least 1) */
  meanLabels: number;
  /** topics an image mixes (1..topicsPerImage, uniformly) */
  topicsPerImage: number;
  /** share of labels drawn from global popularity instead of the image's topics (noise) */
  noise: number;
  seed: number;
}

export const defaultSyntheticOptions: SyntheticOptions = {
  images: 20_000,
  labels: 5_000,
  rank: 16,
  zipf: 1.0,
  meanLabels: 4,
  topicsPerImage: 2,
  noise: 0.05,
  seed: 1,
};

/**
 * Image-label data with planted low-rank structure and long-tailed popularity, for regimes no
 * small real set reaches (the VSE-ens paper's OpenImages had 6,000 labels; up to 100,000 here).
 * Labels are split among `rank` topics; label popularity is Zipfian; an image mixes a few topics
 * and draws its labels from them by popularity, so E[image x label] has rank `rank`.
 * O(images x labels per image) time: a 100,000-label set costs no more per image than a small one.
 */
export function generateSynthetic(opts: SyntheticOptions): LabeledImage[] {
  const { images, labels, rank, zipf, meanLabels, topicsPerImage, noise } = opts;
  if (labels < rank) throw new Error(`synthetic: labels (${labels}) must be >= rank (${rank})`);
  if (labels > 1_000_000) throw new Error('synthetic: at most 1,000,000 labels');
  const rng = new Rng(opts.seed);
  // popularity rank of each label is random, so topics get a fair mix of head and tail labels
  const order = Int32Array.from({ length: labels }, (_, i) => i);
  rng.shuffle(order);
  const popularity = new Float64Array(labels);
  for (let r = 0; r < labels; r++) popularity[order[r]] = 1 / Math.pow(r + 1, zipf);
  const members: number[][] = Array.from({ length: rank }, () => []);
  for (let a = 0; a < labels; a++) members[a % rank].push(a);
  const topicTables = members.map((m) => new AliasTable(m.map((a) => popularity[a])));
  const global = new AliasTable(popularity);
  const out: LabeledImage[] = [];
  for (let i = 0; i < images; i++) {
    const nTopics = 1 + rng.nextInt(topicsPerImage);
    const topics: number[] = [];
    for (let t = 0; t < nTopics; t++) topics.push(rng.nextInt(rank));
    const count = Math.max(1, Math.min(labels, poisson(rng, meanLabels - 1) + 1));
    const chosen = new Set<number>();
    for (let tries = 0; chosen.size < count && tries < count * 20; tries++) {
      if (rng.nextFloat() < noise) {
        chosen.add(global.sample(rng));
      } else {
        const t = topics[rng.nextInt(nTopics)];
        chosen.add(members[t][topicTables[t].sample(rng)]);
      }
    }
    out.push({ id: `s${i}`, labels: [...chosen].map((a) => `l${a}`) });
  }
  return out;
}

function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.nextFloat();
  while (p > limit) {
    k++;
    p *= rng.nextFloat();
  }
  return k;
}
