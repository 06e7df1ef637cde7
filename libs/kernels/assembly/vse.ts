// The image-label model (visual-semantic embedding with images known only by id) in WebAssembly
// with 128-bit SIMD: s(i, a) = u_i · v_a (+ b_a), pairwise hinge max(0, m - s(i,a+) + s(i,a-)),
// L2 on the touched rows, plain SGD or per-coordinate AdaGrad, and every negative sampler of
// the project (uniform, WARP, the factor-wise rank tables, and the re-scoring of c candidates
// from either source) in one loop.
//
// The TypeScript loader reserves every region for the model's caps in one shared memory (pages
// are committed by the OS only when first written, so a cap costs address space, not RAM) and
// passes byte offsets here. Rows are `RB` bytes: `DIM` components, then the label bias lane when
// biases are on (the image side holds a constant 1 there, so a plain dot product is the score),
// then zero padding to a multiple of 4 floats. The TypeScript reference (@freshet/core's
// ImageLabelModel.step) implements the same update; a parity test keeps the two together.

import { contextWeightMax, dot, drawDimension, drawRank, nextFloat, nextInt, setSeed, tableItem } from './common';

// ---- static layout (configure) ----
let DIM: i32 = 0; // semantic dimensions
let COLS: i32 = 0; // DIM + 1 with the bias lane
let RB: usize = 0; // row bytes (COLS rounded up to 4 floats, times 4)
let U: usize = 0; // image rows
let V: usize = 0; // label rows
let GU: usize = 0; // AdaGrad accumulators of U (0: plain SGD)
let GV: usize = 0; // AdaGrad accumulators of V
let POSHDR: usize = 0; // per image: i32 offset into POSARENA (in ints), i32 count
let POSARENA: usize = 0; // positive label ids
let PAIRS: usize = 0; // observed (image, label) pairs, i32 x 2, drawn from uniformly
let HARM: usize = 0; // f32 L(K) = Σ_{j<=K} 1/j for WARP's rank weight
let CTRL: usize = 0; // control block, read at every call (the main thread changes it)
let DIRTY_I: usize = 0; // u8 per image: set when SGD changes the row (0: not tracked)
let DIRTY_L: usize = 0; // u8 per label
let BIAS: bool = false;
let MARGIN: f32 = 1;
let REG: f32 = 0.01;

// ---- sampler (configureSampler) ----
let MODE: i32 = 0; // 0 uniform source, 1 WARP, 2 rank tables, 3 auto (uniform below AUTO_LABELS labels, WARP from there)
let AUTO_LABELS: i32 = 1000;
let CAND: i32 = 1; // candidates scored per draw; the hardest is kept (1: no scoring)
let MAXSAMPLED: i32 = 0x7fffffff; // WARP's cap on draws per step
let MIX: f32 = 0; // rank tables: share of uniform draws mixed in
let RETRIES: i32 = 10; // rank tables: redraws after positives before the uniform fallback

// ---- control block fields (i32 / f32 at CTRL + 4 * index) ----
// 0 labels, 1 images, 2 pairs, 3 table byte offset, 4 sigma byte offset, 5 items indexed by the
// tables, 6 table stride (items per dimension list), 7 λ (f32)
let NL: i32 = 0;
let NP: i32 = 0;
let TABLES: usize = 0;
let SIGMA: usize = 0;
let TV: i32 = 0;
let TSTRIDE: i32 = 0;
let LAMBDA: f32 = 1;

// ---- counters (this instance: each thread has its own) ----
let steps: f64 = 0;
let updates: f64 = 0;
let lossSum: f64 = 0;
let draws: f64 = 0;
let rejections: f64 = 0;
let fallbacks: f64 = 0;
let mixed: f64 = 0;
let scored: f64 = 0;
let noViolator: f64 = 0;

// what the last draw learned on the way (WARP scores both; re-scoring scores the negative)
let WEIGHT: f32 = 1;

export function configure(
  dim: i32, cols: i32, rowBytes: i32, u: usize, v: usize, gu: usize, gv: usize, posHdr: usize, posArena: usize,
  pairs: usize, harm: usize, ctrl: usize, bias: i32, margin: f32, reg: f32, dirtyImages: usize, dirtyLabels: usize,
): void {
  DIM = dim; COLS = cols; RB = <usize>rowBytes; U = u; V = v; GU = gu; GV = gv; POSHDR = posHdr; POSARENA = posArena;
  PAIRS = pairs; HARM = harm; CTRL = ctrl; BIAS = bias != 0; MARGIN = margin; REG = reg; DIRTY_I = dirtyImages; DIRTY_L = dirtyLabels;
}

export function configureSampler(mode: i32, candidates: i32, maxSampled: i32, mix: f32, retries: i32, autoLabels: i32): void {
  MODE = mode; CAND = candidates < 1 ? 1 : candidates; MAXSAMPLED = maxSampled; MIX = mix; RETRIES = retries; AUTO_LABELS = autoLabels;
}

/** The sampler in force for the current label count (auto switches to WARP as labels grow). */
@inline function mode(): i32 {
  return MODE == 3 ? (NL >= AUTO_LABELS ? 1 : 0) : MODE;
}

export function seed(a: u32, b: u32, c: u32, d: u32): void {
  setSeed(a, b, c, d);
}

@inline function readControl(): void {
  NL = load<i32>(CTRL);
  NP = load<i32>(CTRL + 8);
  TABLES = <usize>load<i32>(CTRL + 12);
  SIGMA = <usize>load<i32>(CTRL + 16);
  TV = load<i32>(CTRL + 20);
  TSTRIDE = load<i32>(CTRL + 24);
  LAMBDA = load<f32>(CTRL + 28);
}

/** True when `id` is the target or a known positive of image i. */
@inline function excluded(i: i32, target: i32, id: i32): bool {
  if (id == target) return true;
  const h = POSHDR + (<usize>i << 3);
  const at = POSARENA + (<usize>load<i32>(h) << 2);
  const n = load<i32>(h + 4);
  for (let j = 0; j < n; j++) if (load<i32>(at + (<usize>j << 2)) == id) return true;
  return false;
}

/** A uniformly drawn non-positive label for image i, or -1 when every label is a positive. */
function uniformOne(i: i32, target: i32): i32 {
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

/** Uniform source: one candidate, or the highest-scoring of CAND (dynamic negative sampling). */
function drawUniform(i: i32, target: i32, u: usize): i32 {
  if (CAND == 1) return uniformOne(i, target);
  let best = -1;
  let bestScore: f32 = -Infinity;
  for (let c = 0; c < CAND; c++) {
    const id = uniformOne(i, target);
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

/** Plain SGD on the three rows: decay by (1 - lr reg), then move along the hinge's gradient. */
@inline function updateSgd(u: usize, p: usize, n: usize, lr: f32, g: f32): void {
  const decay = f32x4.splat(1 - lr * REG);
  const gl = f32x4.splat(lr * g);
  for (let o: usize = 0; o < RB; o += 16) {
    const uf = v128.load(u + o);
    const vp = v128.load(p + o);
    const vn = v128.load(n + o);
    v128.store(u + o, f32x4.add(f32x4.mul(decay, uf), f32x4.mul(gl, f32x4.sub(vp, vn))));
    v128.store(p + o, f32x4.add(f32x4.mul(decay, vp), f32x4.mul(gl, uf)));
    v128.store(n + o, f32x4.sub(f32x4.mul(decay, vn), f32x4.mul(gl, uf)));
  }
}

/**
 * Per-coordinate AdaGrad (as LightFM's): d = g · (descent direction of the hinge) - reg · x,
 * G += d², x += lr · d / sqrt(G). Accumulators start at the configured initial value on every
 * lane (padding included, so 0 / sqrt(G) stays 0).
 */
@inline function updateAdagrad(u: usize, p: usize, n: usize, gu: usize, gp: usize, gn: usize, lr: f32, g: f32): void {
  const reg = f32x4.splat(REG);
  const gs = f32x4.splat(g);
  const lrs = f32x4.splat(lr);
  for (let o: usize = 0; o < RB; o += 16) {
    const uf = v128.load(u + o);
    const vp = v128.load(p + o);
    const vn = v128.load(n + o);
    const du = f32x4.sub(f32x4.mul(gs, f32x4.sub(vp, vn)), f32x4.mul(reg, uf));
    const dp = f32x4.sub(f32x4.mul(gs, uf), f32x4.mul(reg, vp));
    const dn = f32x4.neg(f32x4.add(f32x4.mul(gs, uf), f32x4.mul(reg, vn)));
    const au = f32x4.add(v128.load(gu + o), f32x4.mul(du, du));
    const ap = f32x4.add(v128.load(gp + o), f32x4.mul(dp, dp));
    const an = f32x4.add(v128.load(gn + o), f32x4.mul(dn, dn));
    v128.store(gu + o, au);
    v128.store(gp + o, ap);
    v128.store(gn + o, an);
    v128.store(u + o, f32x4.add(uf, f32x4.div(f32x4.mul(lrs, du), f32x4.sqrt(au))));
    v128.store(p + o, f32x4.add(vp, f32x4.div(f32x4.mul(lrs, dp), f32x4.sqrt(ap))));
    v128.store(n + o, f32x4.add(vn, f32x4.div(f32x4.mul(lrs, dn), f32x4.sqrt(an))));
  }
}

/** One SGD step on (image i, positive a) with a drawn negative; w scales the gradient (event weight). */
function step(i: i32, a: i32, lr: f32, w: f32): void {
  steps += 1;
  draws += 1;
  const u = U + <usize>i * RB;
  const p = V + <usize>a * RB;
  WEIGHT = 1;
  const m = mode();
  const neg = m == 1 ? drawWarp(i, a, u) : m == 2 ? drawTables(i, a, u) : drawUniform(i, a, u);
  if (neg < 0) return;
  const n = V + <usize>neg * RB;
  const loss = MARGIN - dot(u, p, RB) + dot(u, n, RB);
  if (!(loss > 0)) return;
  if (GU != 0) updateAdagrad(u, p, n, GU + <usize>i * RB, GV + <usize>a * RB, GV + <usize>neg * RB, lr, w * WEIGHT);
  else updateSgd(u, p, n, lr * w, WEIGHT);
  // the image side of the bias lane is the constant 1 the bias multiplies
  if (BIAS) store<f32>(u + (<usize>DIM << 2), 1);
  if (DIRTY_I != 0) {
    store<u8>(DIRTY_I + <usize>i, 1);
    store<u8>(DIRTY_L + <usize>a, 1);
    store<u8>(DIRTY_L + <usize>neg, 1);
  }
  updates += 1;
  lossSum += <f64>loss;
}

/**
 * `count` steps on pairs drawn uniformly from the pair set, at learning rate lr. With the rank
 * tables it stops early once `drawLimit` draws were made, so the caller refreshes them on cadence.
 * Returns the steps made.
 */
export function trainRandom(count: i32, lr: f32, drawLimit: f64): i32 {
  readControl();
  if (NP == 0 || NL < 2) return count;
  const stopAt = draws + drawLimit;
  for (let s = 0; s < count; s++) {
    if (draws >= stopAt) return s;
    const at = PAIRS + (<usize>nextInt(NP) << 3);
    step(load<i32>(at), load<i32>(at + 4), lr, 1);
  }
  return count;
}

/**
 * Steps on the explicit pairs list[0..count) (i32 image, i32 label), each with the gradient
 * weight weights[j] (weights = 0: all 1). The streaming trainer's events come through here.
 */
export function trainList(list: usize, weights: usize, count: i32, lr: f32): void {
  readControl();
  if (NL < 2) return;
  for (let j = 0; j < count; j++) {
    const at = list + (<usize>j << 3);
    step(load<i32>(at), load<i32>(at + 4), lr, weights == 0 ? <f32>1 : load<f32>(weights + (<usize>j << 2)));
  }
}

/**
 * Draws `count` negatives for (image i, positive a) into out[0..count) with the configured
 * sampler, without training: the parity tests compare their distribution with the TypeScript
 * samplers'. -1 where the sampler gave up (WARP without a violator).
 */
export function sampleNegatives(i: i32, a: i32, count: i32, out: usize): void {
  readControl();
  const u = U + <usize>i * RB;
  for (let j = 0; j < count; j++) {
    draws += 1;
    const m = mode();
    const neg = m == 1 ? drawWarp(i, a, u) : m == 2 ? drawTables(i, a, u) : drawUniform(i, a, u);
    store<i32>(out + (<usize>j << 2), neg);
  }
}

/**
 * Scores every label for image i into out[0..labels) (SIMD dot products, bias included):
 * held-out evaluation ranks them.
 */
export function scoreLabels(i: i32, out: usize): void {
  readControl();
  const u = U + <usize>i * RB;
  for (let a = 0; a < NL; a++) store<f32>(out + (<usize>a << 2), dot(u, V + <usize>a * RB, RB));
}

/**
 * Draws `count` negatives, each for a uniformly drawn observed pair (its own context), without
 * training: the sampler-cost benchmark times this. Stops early after drawLimit draws (the caller
 * refreshes the rank tables on cadence). Returns the draws made.
 */
export function drawRandom(count: i32, drawLimit: f64): i32 {
  readControl();
  if (NP == 0 || NL < 2) return count;
  const stopAt = draws + drawLimit;
  const m = mode();
  let sink = 0;
  for (let j = 0; j < count; j++) {
    if (draws >= stopAt) return j;
    draws += 1;
    const at = PAIRS + (<usize>nextInt(NP) << 3);
    const i = load<i32>(at);
    const a = load<i32>(at + 4);
    const u = U + <usize>i * RB;
    sink += m == 1 ? drawWarp(i, a, u) : m == 2 ? drawTables(i, a, u) : drawUniform(i, a, u);
  }
  drawSink = sink;
  return count;
}

let drawSink: i32 = 0;

export function counters(which: i32): f64 {
  if (which == 0) return steps;
  if (which == 1) return updates;
  if (which == 2) return lossSum;
  if (which == 3) return draws;
  if (which == 4) return rejections;
  if (which == 5) return fallbacks;
  if (which == 6) return mixed;
  if (which == 7) return scored;
  return noViolator;
}

export function heapBase(): usize {
  return __heap_base;
}
