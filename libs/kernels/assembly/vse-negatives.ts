// The image-label kernel's negative samplers. A sampler is a function here, one case in
// drawNegative and one entry in VSE_SAMPLERS (src/abi.ts), whose position is its code.

import { VseSampler } from './abi';
import { contextWeightMax, dot, drawDimension, drawRank, nextFloat, nextInt, tableItem } from './common';
import {
  CAND, COLS, COUNTS, HARM, LAMBDA, MARGIN, MAXSAMPLED, MIX, NL, NP, PAIRS, POSARENA, POSHDR, RB, RETRIES, SIGMA, TABLES, TSTRIDE, TV, V,
  WEIGHT, candidates, fallbacks, mixed, noViolator, rejections, scored,
} from './vse-state';

/** A negative for (image i, positive target) whose row is at u, by the sampler `m`; -1: none (no update). */
@inline export function drawNegative(m: i32, i: i32, target: i32, u: usize): i32 {
  if (m == VseSampler.warp) return drawWarp(i, target, u);
  if (m == VseSampler.adaptive) return drawTables(i, target, u);
  if (m == VseSampler.popularity || m == VseSampler.inbatch) return drawCandidates(i, target, u, true);
  return drawCandidates(i, target, u, false);
}

/**
 * The in-batch correction for a negative: log(|A| q(n)), q(n) its share of the observed pairs.
 * Subtracted from its score in the hinge, it undoes popularity sampling's bias toward frequent
 * labels (0 for a label at the uniform rate).
 */
@inline export function logFrequencyShift(neg: i32): f32 {
  const count = max(1, load<i32>(COUNTS + (<usize>neg << 2)));
  return Mathf.log(<f32>NL * <f32>count / <f32>max(1, NP));
}

/** True when `id` is the target or a known positive of image i. */
@inline export function excluded(i: i32, target: i32, id: i32): bool {
  if (id == target) return true;
  const h = POSHDR + (<usize>i << 3);
  const at = POSARENA + (<usize>load<i32>(h) << 2);
  const n = load<i32>(h + 4);
  for (let j = 0; j < n; j++) if (load<i32>(at + (<usize>j << 2)) == id) return true;
  return false;
}

/** A uniformly drawn non-positive label for image i, or -1 when every label is a positive. */
export function uniformOne(i: i32, target: i32): i32 {
  for (let t = 0; t < 64; t++) {
    const id = nextInt(NL);
    if (!excluded(i, target, id)) return id;
    rejections += 1;
  }
  // positives crowd the label set (tiny vocabularies): scan from a random start instead
  const start = nextInt(NL);
  for (let j = 0; j < NL; j++) {
    const id = (start + j) % NL;
    if (!excluded(i, target, id)) return id;
  }
  return -1;
}

/**
 * A non-positive label in proportion to its observed pairs (the label of a uniformly drawn pair:
 * no table to keep, and it follows a stream's replay memory as it changes); uniform when the
 * pair set is empty or positives keep coming up.
 */
export function popularOne(i: i32, target: i32): i32 {
  if (NP > 0) {
    for (let t = 0; t < 64; t++) {
      const id = load<i32>(PAIRS + (<usize>nextInt(NP) << 3) + 4);
      if (!excluded(i, target, id)) return id;
      rejections += 1;
    }
  }
  fallbacks += 1;
  return uniformOne(i, target);
}

/** One candidate from the uniform or the popularity source, or the highest-scoring of candidates() (dynamic negative sampling). */
function drawCandidates(i: i32, target: i32, u: usize, popular: bool): i32 {
  const count = candidates();
  if (count == 1) return popular ? popularOne(i, target) : uniformOne(i, target);
  let best = -1;
  let bestScore: f32 = -Infinity;
  for (let c = 0; c < count; c++) {
    const id = popular ? popularOne(i, target) : uniformOne(i, target);
    if (id < 0) return -1;
    const s = dot(u, V + <usize>id * RB, RB);
    scored += 1;
    if (s > bestScore) {
      bestScore = s;
      best = id;
    }
  }
  return best;
}

/**
 * WARP: uniform non-positives until one violates the margin, at most min(MAXSAMPLED, |A| - 1)
 * draws; the step is weighted by L(floor((|A| - 1) / N)). -1: no violator (no update).
 */
function drawWarp(i: i32, target: i32, u: usize): i32 {
  const sPos = dot(u, V + <usize>target * RB, RB);
  const cap = min(MAXSAMPLED, NL - 1);
  for (let trials = 1; trials <= cap; trials++) {
    const id = nextInt(NL);
    if (excluded(i, target, id)) {
      rejections += 1;
      continue;
    }
    scored += 1;
    const sNeg = dot(u, V + <usize>id * RB, RB);
    if (MARGIN + sNeg > sPos) {
      WEIGHT = load<f32>(HARM + (<usize>((NL - 1) / trials) << 2));
      return id;
    }
  }
  noViolator += 1;
  return -1;
}

/** The rank tables: the paper's draw (CAND = 1) or the hardest of CAND table draws. */
function drawTables(i: i32, target: i32, u: usize): i32 {
  const wmax = TV > 0 ? contextWeightMax(u, SIGMA, RB) : <f32>0;
  if (TV == 0 || !(wmax > 0) || (MIX > 0 && nextFloat() < MIX)) {
    mixed += 1;
    return uniformOne(i, target);
  }
  if (NL > TV && nextInt(NL) >= TV) {
    // labels added since the last refresh: reachable now, in their uniform share
    const id = TV + nextInt(NL - TV);
    if (!excluded(i, target, id)) {
      mixed += 1;
      return id;
    }
  }
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    let best = -1;
    let bestScore: f32 = -Infinity;
    for (let c = 0; c < CAND; c++) {
      const f = drawDimension(u, SIGMA, COLS, wmax);
      const id = tableItem(TABLES, TSTRIDE, TV, f, drawRank(LAMBDA, TV), load<f32>(u + (<usize>f << 2)));
      if (excluded(i, target, id)) {
        rejections += 1;
        continue;
      }
      if (CAND == 1) return id;
      const s = dot(u, V + <usize>id * RB, RB);
      scored += 1;
      if (s > bestScore) {
        bestScore = s;
        best = id;
      }
    }
    if (best >= 0) return best;
  }
  fallbacks += 1;
  return uniformOne(i, target);
}
