import { Rng } from '@freshet/core';

/** Ranking quality of one scorer over a set of images: means over the images evaluated. */
export interface RankScores {
  images: number;
  hit5: number;
  hit10: number;
  map: number;
}

/** One image to rank for: which candidates are right, which are left out (its training labels). */
export interface RankCase {
  truth: ReadonlySet<number>;
  exclude: ReadonlySet<number>;
}

/**
 * hit@5, hit@10 (a right candidate among the first k) and average precision of the right
 * candidates, scoring `candidates` (indices) for each case with `score(case, candidate)`.
 */
export function rankScores(cases: readonly RankCase[], candidates: readonly number[], score: (c: number, candidate: number) => number): RankScores {
  let hit5 = 0;
  let hit10 = 0;
  let ap = 0;
  let n = 0;
  const scored: Array<{ id: number; s: number }> = [];
  for (let c = 0; c < cases.length; c++) {
    const { truth, exclude } = cases[c];
    scored.length = 0;
    for (const id of candidates) if (!exclude.has(id)) scored.push({ id, s: score(c, id) });
    // ties go to the higher index: a constant scorer is not rewarded by the candidates' order
    scored.sort((a, b) => b.s - a.s || b.id - a.id);
    let found = 0;
    let precisionSum = 0;
    let first = Infinity;
    for (let r = 0; r < scored.length; r++) {
      if (!truth.has(scored[r].id)) continue;
      found++;
      precisionSum += found / (r + 1);
      first = Math.min(first, r);
    }
    if (found === 0) continue;
    n++;
    if (first < 5) hit5++;
    if (first < 10) hit10++;
    ap += precisionSum / found;
  }
  return { images: n, hit5: hit5 / n, hit10: hit10 / n, map: ap / n };
}

/** A random ranking's scores: the mean of `draws` seeded shuffles. */
export function randomScores(cases: readonly RankCase[], candidates: readonly number[], seed: number, draws = 20): RankScores {
  const rng = new Rng(seed);
  const runs: RankScores[] = [];
  for (let d = 0; d < draws; d++) {
    const noise = new Map(candidates.map((id) => [id, rng.nextFloat()]));
    runs.push(rankScores(cases, candidates, (_c, id) => noise.get(id) ?? 0));
  }
  const mean = (f: (r: RankScores) => number): number => runs.reduce((s, r) => s + f(r), 0) / runs.length;
  return { images: runs[0].images, hit5: mean((r) => r.hit5), hit10: mean((r) => r.hit10), map: mean((r) => r.map) };
}

/** P@5 with one held-out label per image: the share of the top five that is it, over the images. */
export function precisionAt5(cases: readonly RankCase[], candidates: readonly number[], score: (c: number, candidate: number) => number): number {
  return rankScores(cases, candidates, score).hit5 / 5;
}
