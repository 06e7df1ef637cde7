// Pieces every kernel shares: the random number generator, a fast natural log, SIMD dot
// products and the factor-wise rank sampler's draws. One copy, imported by each kernel (each
// .wasm instance has its own globals, so every thread has its own RNG state).

// xoshiro128** state (the TypeScript Rng seeds it from its own stream)
let s0: u32 = 1;
let s1: u32 = 2;
let s2: u32 = 3;
let s3: u32 = 4;

export function setSeed(a: u32, b: u32, c: u32, d: u32): void {
  s0 = a; s1 = b; s2 = c; s3 = d;
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
}

@inline export function nextU32(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

/** Uniform in [0, 1) with 24 bits. */
@inline export function nextFloat(): f32 {
  return <f32>(nextU32() >>> 8) * (1.0 / 16777216.0);
}

/** Uniform integer in [0, n). */
@inline export function nextInt(n: i32): i32 {
  return <i32>((<u64>nextU32() * <u64>n) >>> 32);
}

/** Natural log for x in (0, 1]: exponent plus an atanh series on the mantissa (|error| < 1e-5). */
@inline export function lnUnit(x: f32): f32 {
  const bits = reinterpret<u32>(x);
  const e = <f32>(<i32>((bits >>> 23) & 0xff) - 127);
  const m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000); // [1, 2)
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  return e * 0.6931472 + 2 * t * (1 + t2 * (0.33333334 + t2 * (0.2 + t2 * 0.14285715)));
}

/** Dot product of two rows of `bytes` bytes (a multiple of 16; padding lanes hold 0). */
@inline export function dot(a: usize, b: usize, bytes: usize): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 32 <= bytes; i += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + i + 16), v128.load(b + i + 16)));
  }
  for (; i < bytes; i += 16) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + i), v128.load(b + i)));
  const s = f32x4.add(acc0, acc1);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// ---- the factor-wise rank sampler (AOBPR / VSE-ens / Chen et al.) ----
//
// Rank tables: for each dimension f < dims, the item ids sorted by their value in f, descending,
// tables[f * stride + r]. Filled and refreshed by the TypeScript loader (one implementation, in
// @freshet/core's rank-tables); the kernels only read them.

/**
 * The largest dimension weight |u_f| σ_f of the context row at byte offset ctx (SIMD over
 * `bytes`; σ is 0 on padding lanes). Dimensions are then drawn by rejection against it: this
 * replaced a cumulative table and a binary search per draw, whose sequential prefix sum and
 * unpredictable branches cost more than the draws.
 */
export function contextWeightMax(ctx: usize, sigma: usize, bytes: usize): f32 {
  let m = f32x4.splat(0);
  for (let i: usize = 0; i < bytes; i += 16) {
    // pmax: x86's maxps in one instruction (max's NaN rules cost several; weights are never NaN)
    m = f32x4.pmax(m, f32x4.mul(f32x4.abs(v128.load(ctx + i)), v128.load(sigma + i)));
  }
  return Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** A dimension f < dims with probability |u_f| σ_f / Σ_g |u_g| σ_g, by rejection against wmax. */
@inline export function drawDimension(ctx: usize, sigma: usize, dims: i32, wmax: f32): i32 {
  let f = 0;
  for (let t = 0; t < 64; t++) {
    f = nextInt(dims);
    const w = Mathf.abs(load<f32>(ctx + (<usize>f << 2))) * load<f32>(sigma + (<usize>f << 2));
    if (nextFloat() * wmax < w) return f;
  }
  return f;
}

/**
 * A 0-based rank from the truncated exponential p(r) ∝ exp(-r/λ), r < n: redrawn while beyond n
 * (the papers' "redraw if r > |A|"), uniform after 32 tries (λ far above n is nearly flat).
 */
@inline export function drawRank(lambda: f32, n: i32): i32 {
  for (let t = 0; t < 32; t++) {
    const r = <i32>(-lambda * lnUnit(1.0 - nextFloat()));
    if (r < n && r >= 0) return r;
  }
  return nextInt(n);
}

/**
 * The item at rank r of dimension f for a context whose component f is `uf`: the r-th largest
 * when uf > 0, else the r-th smallest (1-based position n - r + 1).
 */
@inline export function tableItem(tables: usize, stride: i32, n: i32, f: i32, r: i32, uf: f32): i32 {
  const pos = uf > 0 ? r : n - 1 - r;
  return load<i32>(tables + ((<usize>f * <usize>stride + <usize>pos) << 2));
}
