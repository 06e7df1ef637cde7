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

import { dot, nextInt, setSeed } from './common';
import { VseSampler } from './abi';
import { drawNegative, logFrequencyShift, uniformOne } from './vse-negatives';
import {
  BIAS, CAND, DIM, DIRTY_I, DIRTY_L, GU, GV, MARGIN, MAX_CANDIDATES, NL, NP, PAIRS, RB, REG, SCRATCH, TEMPERATURE, U, V, WEIGHT, draws, lossSum,
  mode, readControl, scored, steps, updates,
} from './vse-state';

export { configure, drawsSoFar, echoConfig, echoControl, writeCounters } from './vse-state';

export function seed(a: u32, b: u32, c: u32, d: u32): void {
  setSeed(a, b, c, d);
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

/**
 * Moves the rows of (image i, positive a, negative neg) along the hinge's gradient: w is the
 * event's weight, g the sampler's (WARP's rank weight, a self-adversarial share). Plain SGD scales
 * its rate (and so the decay) by w alone, as it always has.
 */
@inline function update(i: i32, a: i32, neg: i32, lr: f32, w: f32, g: f32): void {
  const u = U + <usize>i * RB;
  const p = V + <usize>a * RB;
  const n = V + <usize>neg * RB;
  if (GU != 0) updateAdagrad(u, p, n, GU + <usize>i * RB, GV + <usize>a * RB, GV + <usize>neg * RB, lr, w * g);
  else updateSgd(u, p, n, lr * w, g);
  // the image side of the bias lane is the constant 1 the bias multiplies
  if (BIAS) store<f32>(u + (<usize>DIM << 2), 1);
  if (DIRTY_I != 0) {
    store<u8>(DIRTY_I + <usize>i, 1);
    store<u8>(DIRTY_L + <usize>a, 1);
    store<u8>(DIRTY_L + <usize>neg, 1);
  }
}

/** One SGD step on (image i, positive a) with a drawn negative; w scales the gradient (event weight). */
function step(i: i32, a: i32, lr: f32, w: f32): void {
  steps += 1;
  draws += 1;
  const m = mode();
  if (m == VseSampler.adversarial) return adversarialStep(i, a, lr, w);
  const u = U + <usize>i * RB;
  const p = V + <usize>a * RB;
  WEIGHT = 1;
  const neg = drawNegative(m, i, a, u);
  if (neg < 0) return;
  let loss = MARGIN - dot(u, p, RB) + dot(u, V + <usize>neg * RB, RB);
  if (m == VseSampler.inbatch) loss -= logFrequencyShift(neg);
  if (!(loss > 0)) return;
  update(i, a, neg, lr, w, WEIGHT);
  updates += 1;
  lossSum += <f64>loss;
}

/**
 * Self-adversarial negatives: CAND uniform candidates, each violating the margin updated with
 * weight exp(t s_k) / sum_j exp(t s_j) (scores before the step; the weights sum to 1 over the
 * candidates, so a step moves as far as one negative's would). Counts as one update when any
 * candidate violates.
 */
function adversarialStep(i: i32, a: i32, lr: f32, w: f32): void {
  const u = U + <usize>i * RB;
  const c = min(CAND, MAX_CANDIDATES);
  const sPos = dot(u, V + <usize>a * RB, RB);
  let top: f32 = -Infinity;
  for (let k = 0; k < c; k++) {
    const id = uniformOne(i, a);
    if (id < 0) return;
    const s = dot(u, V + <usize>id * RB, RB);
    scored += 1;
    store<i32>(SCRATCH + (<usize>k << 3), id);
    store<f32>(SCRATCH + (<usize>k << 3) + 4, s);
    top = max(top, s);
  }
  let z: f32 = 0;
  for (let k = 0; k < c; k++) z += Mathf.exp(TEMPERATURE * (load<f32>(SCRATCH + (<usize>k << 3) + 4) - top));
  let moved = false;
  for (let k = 0; k < c; k++) {
    const s = load<f32>(SCRATCH + (<usize>k << 3) + 4);
    const loss = MARGIN - sPos + s;
    if (!(loss > 0)) continue;
    const weight = Mathf.exp(TEMPERATURE * (s - top)) / z;
    update(i, a, load<i32>(SCRATCH + (<usize>k << 3)), lr, w, weight);
    lossSum += <f64>(weight * loss);
    moved = true;
  }
  if (moved) updates += 1;
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
    const i = load<i32>(at);
    // a pair of an evicted image (-1) is no longer replayed
    if (i >= 0) step(i, load<i32>(at + 4), lr, 1);
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
    const neg = drawNegative(mode(), i, a, u);
    store<i32>(out + (<usize>j << 2), neg);
  }
}

/**
 * Scores every label for the `count` images whose ids are at images[0..count) (SIMD dot products,
 * bias included) into out[b * labels + a]: held-out evaluation ranks them. Each label row is read
 * once for the whole block, so a block of images costs about one image's memory traffic (the
 * label matrix is far larger than the caches at tens of thousands of labels).
 */
export function scoreLabels(images: usize, count: i32, out: usize): void {
  readControl();
  const nl = <usize>NL;
  for (let a = 0; a < NL; a++) {
    const p = V + <usize>a * RB;
    for (let b = 0; b < count; b++) {
      const u = U + <usize>load<i32>(images + (<usize>b << 2)) * RB;
      store<f32>(out + ((<usize>b * nl + <usize>a) << 2), dot(u, p, RB));
    }
  }
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
    if (i < 0) continue;
    const a = load<i32>(at + 4);
    const u = U + <usize>i * RB;
    sink += drawNegative(m, i, a, u);
  }
  drawSink = sink;
  return count;
}

let drawSink: i32 = 0;

export function heapBase(): usize {
  return __heap_base;
}
