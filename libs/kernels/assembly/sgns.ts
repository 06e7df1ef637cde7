// Skip-gram with negative sampling: the whole sentence loop in WebAssembly with 128-bit SIMD.
//
// Why this shape (measured on this machine, see docs/skip-gram-speed.md): plain typed-array
// JavaScript tops out near 0.36x gensim; f32x4 SIMD over wasm gave 3x; negatives from a small
// alias table instead of word2vec's 1e8-entry unigram table gave 2.8x; calling in once per ~100
// sentences keeps V8 in its optimising tier. The module imports its (shared) memory; the
// TypeScript loader lays out every array in it and passes byte offsets here. No allocation, no
// runtime, no data segments: every table lives in memory the loader fills.

// ---- layout (byte offsets), set by configure() ----
let K4: i32 = 0; // row stride in floats (dim rounded up to a multiple of 4; padding stays 0)
let DIM: i32 = 0; // real dimension (rank tables exist for these)
let V: i32 = 0; // vocabulary size
let IN: usize = 0; // input vectors f32[V * K4]
let OUT: usize = 0; // output vectors f32[V * K4]
let PROB: usize = 0; // alias probabilities f32[V]
let ALIAS: usize = 0; // alias targets i32[V]
let KEEP: usize = 0; // subsampling keep probabilities f32[V]
let CORPUS: usize = 0; // word ids i32[]
let STARTS: usize = 0; // sentence starts i32[]
let SIG: usize = 0; // sigmoid table f32[SIG_SIZE + 1]
let WINDOW: i32 = 5;
let NEGATIVES: i32 = 5;
let SUBSAMPLE: bool = true;

// ---- per-instance scratch (each worker thread has its own) ----
let NEU1E: usize = 0; // f32[K4]
let SEN: usize = 0; // i32[max sentence length]
let CUM: usize = 0; // reserved scratch (f32[K4]) per thread

// ---- adaptive sampler state ----
let MODE: i32 = 0; // 0 popularity (alias), 1 adaptive rank tables
let TABLES: usize = 0; // i32[DIM * TV]: per dimension, ids sorted by output value, descending
let TV: i32 = 0; // items the tables know (rows added later are drawn from their uniform share)
let SIGMA: usize = 0; // f32[DIM]
let LAMBDA: f32 = 1;
let MIX: f32 = 0;
let RETRIES: i32 = 10;

// ---- counters ----
let pairs: f64 = 0;
let draws: f64 = 0;
let fallbacks: f64 = 0;
let mixed: f64 = 0;
let lossSum: f64 = 0;
// the loss is a diagnostic: computing it on every pair cost 30% of the kernel's time, so it is
// measured on one pair in 16 and scaled
let lossPairs: f64 = 0;
let pairTick: u32 = 0;

const SIG_SIZE: i32 = 1000;
const MAX_EXP: f32 = 6;

// xoshiro128** state
let s0: u32 = 1;
let s1: u32 = 2;
let s2: u32 = 3;
let s3: u32 = 4;

export function heapBase(): usize {
  return __heap_base;
}

export function configure(
  k4: i32, dim: i32, v: i32, inOff: usize, outOff: usize, probOff: usize, aliasOff: usize, keepOff: usize,
  corpusOff: usize, startsOff: usize, sigOff: usize, window: i32, negatives: i32, subsample: i32,
): void {
  K4 = k4; DIM = dim; V = v; IN = inOff; OUT = outOff; PROB = probOff; ALIAS = aliasOff; KEEP = keepOff;
  CORPUS = corpusOff; STARTS = startsOff; SIG = sigOff; WINDOW = window; NEGATIVES = negatives; SUBSAMPLE = subsample != 0;
}

export function configureScratch(neu1e: usize, sen: usize, cum: usize): void {
  NEU1E = neu1e; SEN = sen; CUM = cum;
}

export function configureAdaptive(mode: i32, tables: usize, tv: i32, sigma: usize, lambda: f32, mix: f32, retries: i32): void {
  MODE = mode; TABLES = tables; TV = tv; SIGMA = sigma; LAMBDA = lambda; MIX = mix; RETRIES = retries;
}

export function seed(a: u32, b: u32, c: u32, d: u32): void {
  s0 = a; s1 = b; s2 = c; s3 = d;
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
}

@inline function nextU32(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

/** Uniform in [0, 1) with 24 bits. */
@inline function nextFloat(): f32 {
  return <f32>(nextU32() >>> 8) * (1.0 / 16777216.0);
}

/** Uniform integer in [0, n). */
@inline function nextInt(n: i32): i32 {
  return <i32>((<u64>nextU32() * <u64>n) >>> 32);
}

/** Natural log for x in (0, 1]: exponent plus an atanh series on the mantissa (|error| < 1e-5). */
@inline function lnUnit(x: f32): f32 {
  const bits = reinterpret<u32>(x);
  const e = <f32>(<i32>((bits >>> 23) & 0xff) - 127);
  const m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000); // [1, 2)
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  return e * 0.6931472 + 2 * t * (1 + t2 * (0.33333334 + t2 * (0.2 + t2 * 0.14285715)));
}

@inline function aliasDraw(): i32 {
  const col = nextInt(V);
  return nextFloat() < load<f32>(PROB + (<usize>col << 2)) ? col : load<i32>(ALIAS + (<usize>col << 2));
}

/**
 * The largest dimension weight |u_f| σ_f of the context row at byte offset l1 (SIMD). Dimensions
 * are then drawn by rejection against it: this replaced a cumulative table and a binary search
 * per draw, whose sequential prefix sum and unpredictable branches cost more than the draws.
 */
function prepareContext(l1: usize): f32 {
  let m = f32x4.splat(0);
  const bytes = <usize>K4 << 2;
  for (let i: usize = 0; i < bytes; i += 16) {
    m = f32x4.max(m, f32x4.mul(f32x4.abs(v128.load(l1 + i)), v128.load(SIGMA + i)));
  }
  return Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** A dimension f with probability |u_f| σ_f / Σ_g |u_g| σ_g, by rejection against the maximum weight. */
@inline function drawDimension(l1: usize, wmax: f32): i32 {
  let f = 0;
  for (let t = 0; t < 64; t++) {
    f = nextInt(DIM);
    const w = Mathf.abs(load<f32>(l1 + (<usize>f << 2))) * load<f32>(SIGMA + (<usize>f << 2));
    if (nextFloat() * wmax < w) return f;
  }
  return f;
}

/** One adaptive draw for the context at l1 (total = its largest dimension weight); never returns `avoid`. */
function adaptiveDraw(l1: usize, total: f32, avoid: i32): i32 {
  draws += 1;
  if (TV == 0 || !(total > 0) || (MIX > 0 && nextFloat() < MIX)) {
    mixed += 1;
    return aliasDraw();
  }
  if (V > TV && nextInt(V) >= TV) {
    mixed += 1;
    return TV + nextInt(V - TV);
  }
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    // rank r ~ floor(-λ ln U), U in (0, 1]
    let r = <i32>(-LAMBDA * lnUnit(1.0 - nextFloat()));
    if (r >= TV) r = nextInt(TV);
    const lo = drawDimension(l1, total);
    const pos = load<f32>(l1 + (<usize>lo << 2)) > 0 ? r : TV - 1 - r;
    const id = load<i32>(TABLES + ((<usize>lo * <usize>TV + <usize>pos) << 2));
    if (id != avoid) return id;
  }
  fallbacks += 1;
  return aliasDraw();
}

@inline function dot(a: usize, b: usize): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const bytes = <usize>K4 << 2;
  let i: usize = 0;
  for (; i + 32 <= bytes; i += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + i + 16), v128.load(b + i + 16)));
  }
  for (; i < bytes; i += 16) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + i), v128.load(b + i)));
  const s = f32x4.add(acc0, acc1);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** One (centre, context) pair: the context's input vector against the centre's output vector and K negatives. */
function trainPair(center: i32, context: i32, lr: f32): void {
  const bytes = <usize>K4 << 2;
  const l1 = IN + <usize>context * bytes;
  const zero = f32x4.splat(0);
  for (let i: usize = 0; i < bytes; i += 16) v128.store(NEU1E + i, zero);
  let total: f32 = 0;
  if (MODE == 1) total = prepareContext(l1);
  const measure = (pairTick++ & 15) == 0;
  if (measure) lossPairs += 1;
  for (let d = 0; d <= NEGATIVES; d++) {
    let target: i32;
    let label: f32;
    if (d == 0) {
      target = center;
      label = 1;
    } else {
      target = MODE == 1 ? adaptiveDraw(l1, total, center) : aliasDraw();
      if (target == center) continue;
      label = 0;
    }
    const l2 = OUT + <usize>target * bytes;
    const f = dot(l1, l2);
    let g: f32;
    if (f > MAX_EXP) g = (label - 1) * lr;
    else if (f < -MAX_EXP) g = label * lr;
    else {
      const p = load<f32>(SIG + (<usize>(<i32>((f + MAX_EXP) * (<f32>SIG_SIZE / MAX_EXP / 2))) << 2));
      g = (label - p) * lr;
      if (measure) lossSum -= <f64>lnUnit(Mathf.max(label > 0 ? p : 1 - p, 1e-7));
    }
    const gv = f32x4.splat(g);
    for (let i: usize = 0; i < bytes; i += 16) {
      const o = v128.load(l2 + i);
      v128.store(NEU1E + i, f32x4.add(v128.load(NEU1E + i), f32x4.mul(gv, o)));
      v128.store(l2 + i, f32x4.add(o, f32x4.mul(gv, v128.load(l1 + i))));
    }
  }
  for (let i: usize = 0; i < bytes; i += 16) v128.store(l1 + i, f32x4.add(v128.load(l1 + i), v128.load(NEU1E + i)));
  pairs += 1;
}

let lastWords: i32 = 0;

/** Raw words (before subsampling) of the sentences the last train() call went through. */
export function wordsTrained(): i32 {
  return lastWords;
}

/**
 * Trains sentences [from, to) at learning rate lr, stopping early at a sentence boundary once
 * the adaptive sampler has made drawLimit draws (so rank tables are refreshed on cadence).
 * Returns the index of the first sentence not trained.
 */
export function train(from: i32, to: i32, lr: f32, drawLimit: f64): i32 {
  let words = 0;
  const stopAt = draws + drawLimit;
  for (let s = from; s < to; s++) {
    if (draws >= stopAt) {
      lastWords = words;
      return s;
    }
    const a = load<i32>(STARTS + (<usize>s << 2));
    const b = load<i32>(STARTS + (<usize>(s + 1) << 2));
    words += b - a;
    let n = 0;
    for (let j = a; j < b; j++) {
      const w = load<i32>(CORPUS + (<usize>j << 2));
      if (SUBSAMPLE) {
        const keep = load<f32>(KEEP + (<usize>w << 2));
        if (keep < 1 && keep < nextFloat()) continue;
      }
      store<i32>(SEN + (<usize>n << 2), w);
      n++;
    }
    for (let pos = 0; pos < n; pos++) {
      const shrink = nextInt(WINDOW);
      const lo = max(0, pos - WINDOW + shrink);
      const hi = min(n - 1, pos + WINDOW - shrink);
      const center = load<i32>(SEN + (<usize>pos << 2));
      for (let c = lo; c <= hi; c++) {
        if (c != pos) trainPair(center, load<i32>(SEN + (<usize>c << 2)), lr);
      }
    }
  }
  lastWords = words;
  return to;
}

export function counters(which: i32): f64 {
  if (which == 0) return pairs;
  if (which == 1) return draws;
  if (which == 2) return fallbacks;
  if (which == 3) return mixed;
  if (which == 4) return lossSum;
  return lossPairs;
}
