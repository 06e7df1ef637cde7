// Skip-gram with negative sampling: the whole sentence loop in WebAssembly with 128-bit SIMD.
//
// Why this shape (measured on this machine, see docs/skip-gram-speed.md): plain typed-array
// JavaScript tops out near 0.36x gensim; f32x4 SIMD over wasm gave 3x; negatives from a small
// alias table instead of word2vec's 1e8-entry unigram table gave 2.8x; calling in once per ~100
// sentences keeps V8 in its optimising tier. The module imports its (shared) memory; the
// TypeScript loader reserves every region for the vocabulary cap (pages are committed only when
// written) and passes byte offsets here. Everything that changes while a stream is trained (the
// vocabulary size, the alias and keep tables, the rank tables) is read from a control block at
// the start of each call, so the main thread can grow the vocabulary and swap tables between calls.

import { contextWeightMax, dot, drawDimension, drawRank, lnUnit, nextFloat, nextInt, setSeed, tableItem } from './common';

// ---- static layout (configure) ----
let K4: i32 = 0; // row stride in floats (dim rounded up to a multiple of 4; padding stays 0)
let DIM: i32 = 0; // real dimension (rank tables exist for these)
let IN: usize = 0; // input vectors f32[cap * K4]
let OUT: usize = 0; // output vectors f32[cap * K4]
let SIG: usize = 0; // sigmoid table f32[SIG_SIZE + 1]
let CTRL: usize = 0; // control block
let DIRTY: usize = 0; // u8 per word: set when its input vector changes (0: not tracked)
let WINDOW: i32 = 5;
let NEGATIVES: i32 = 5;
let SUBSAMPLE: bool = true;
let MODE: i32 = 0; // 0 popularity (alias), 1 adaptive rank tables
let MIX: f32 = 0;
let RETRIES: i32 = 10;
let HEAD: bool = false; // the tables rank only the most frequent words on purpose: the rest come from the popularity mix

// ---- per-instance scratch (each worker thread has its own) ----
let NEU1E: usize = 0; // f32[K4]
let SEN: usize = 0; // i32[max sentence length]
let TARGETS: usize = 0; // i32[NEGATIVES + 1]: this pair's centre and negatives
let touched: f32 = 0; // sink for the early row loads (keeps them from being optimised away)

// ---- read from the control block at every call (int32 / float32 at CTRL + 4 * index) ----
// 0 words with a row, 1 words in the alias table, 2 alias byte offset (prob f32[n], then alias
// i32[n] at + 4 * cap), 3 table byte offset, 4 sigma byte offset, 5 words the tables rank,
// 6 table stride, 7 λ (f32), 14 keep byte offset, 15 words in the keep table, 16 cap
let V: i32 = 0;
let VA: i32 = 0;
let PROB: usize = 0;
let ALIAS: usize = 0;
let TABLES: usize = 0;
let SIGMA: usize = 0;
let TV: i32 = 0;
let TSTRIDE: i32 = 0;
let LAMBDA: f32 = 1;
let KEEP: usize = 0;
let VK: i32 = 0;

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

export function heapBase(): usize {
  return __heap_base;
}

export function configure(k4: i32, dim: i32, inOff: usize, outOff: usize, sigOff: usize, ctrl: usize, window: i32, negatives: i32, subsample: i32, mode: i32, mix: f32, retries: i32, dirty: usize, head: i32): void {
  K4 = k4; DIM = dim; IN = inOff; OUT = outOff; SIG = sigOff; CTRL = ctrl; WINDOW = window; NEGATIVES = negatives;
  SUBSAMPLE = subsample != 0; MODE = mode; MIX = mix; RETRIES = retries; DIRTY = dirty; HEAD = head != 0;
}

export function configureScratch(neu1e: usize, sen: usize, targets: usize): void {
  NEU1E = neu1e; SEN = sen; TARGETS = targets;
}

export function seed(a: u32, b: u32, c: u32, d: u32): void {
  setSeed(a, b, c, d);
}

@inline function readControl(): void {
  V = load<i32>(CTRL);
  VA = load<i32>(CTRL + 4);
  PROB = <usize>load<i32>(CTRL + 8);
  ALIAS = PROB + (<usize>load<i32>(CTRL + 64) << 2);
  TABLES = <usize>load<i32>(CTRL + 12);
  SIGMA = <usize>load<i32>(CTRL + 16);
  TV = load<i32>(CTRL + 20);
  TSTRIDE = load<i32>(CTRL + 24);
  LAMBDA = load<f32>(CTRL + 28);
  KEEP = <usize>load<i32>(CTRL + 56);
  VK = load<i32>(CTRL + 60);
}

/** A popularity draw (count^alpha) from the alias table; uniform over the words while it is empty. */
@inline function aliasDraw(): i32 {
  if (VA == 0) return nextInt(V);
  const col = nextInt(VA);
  return nextFloat() < load<f32>(PROB + (<usize>col << 2)) ? col : load<i32>(ALIAS + (<usize>col << 2));
}

/** One adaptive draw for the context at l1 (wmax = its largest dimension weight); never returns `avoid`. */
function adaptiveDraw(l1: usize, wmax: f32, avoid: i32): i32 {
  draws += 1;
  if (TV == 0 || !(wmax > 0) || (MIX > 0 && nextFloat() < MIX)) {
    mixed += 1;
    return aliasDraw();
  }
  if (!HEAD && V > TV && nextInt(V) >= TV) {
    // words added since the last refresh: reachable now, in their uniform share
    mixed += 1;
    return TV + nextInt(V - TV);
  }
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const f = drawDimension(l1, SIGMA, DIM, wmax);
    const id = tableItem(TABLES, TSTRIDE, TV, f, drawRank(LAMBDA, TV), load<f32>(l1 + (<usize>f << 2)));
    if (id != avoid) return id;
  }
  fallbacks += 1;
  return aliasDraw();
}

/**
 * One (centre, context) pair: the context's input vector against the centre's output vector and
 * K negatives. All K negatives are drawn first and the first line of every row they name is
 * loaded before any arithmetic: the rows of hard (often rare) negatives are rarely in cache, and
 * loads issued together overlap their misses, where draw-then-update took them one at a time.
 * The draws depend only on the input vector and the tables, which this pair does not change
 * until its end, so the order of work changes nothing in the result.
 */
function trainPair(center: i32, context: i32, lr: f32): void {
  const bytes = <usize>K4 << 2;
  const l1 = IN + <usize>context * bytes;
  const zero = f32x4.splat(0);
  for (let i: usize = 0; i < bytes; i += 16) v128.store(NEU1E + i, zero);
  let wmax: f32 = 0;
  if (MODE == 1 && TV > 0) wmax = contextWeightMax(l1, SIGMA, bytes);
  store<i32>(TARGETS, center);
  let sink: f32 = load<f32>(OUT + <usize>center * bytes);
  for (let d = 1; d <= NEGATIVES; d++) {
    let target: i32;
    if (MODE == 1) target = adaptiveDraw(l1, wmax, center);
    else {
      draws += 1;
      target = aliasDraw();
    }
    store<i32>(TARGETS + (<usize>d << 2), target);
    sink += load<f32>(OUT + <usize>target * bytes);
  }
  touched = sink;
  const measure = (pairTick++ & 15) == 0;
  if (measure) lossPairs += 1;
  for (let d = 0; d <= NEGATIVES; d++) {
    const target = load<i32>(TARGETS + (<usize>d << 2));
    if (d > 0 && target == center) continue;
    const label: f32 = d == 0 ? 1 : 0;
    const l2 = OUT + <usize>target * bytes;
    const f = dot(l1, l2, bytes);
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
  if (DIRTY != 0) store<u8>(DIRTY + <usize>context, 1);
  pairs += 1;
}

let lastWords: i32 = 0;

/** Raw words (before subsampling) of the sentences the last train() call went through. */
export function wordsTrained(): i32 {
  return lastWords;
}

/**
 * Trains sentences [from, to) of the corpus at byte offset `corpus` (word ids; ids < 0 or beyond
 * the vocabulary are skipped) whose sentence s spans starts[s] .. starts[s+1], at learning rate
 * lr, stopping early at a sentence boundary once drawLimit negatives were drawn (so the rank
 * tables are refreshed on cadence). Returns the index of the first sentence not trained.
 */
export function train(corpus: usize, starts: usize, from: i32, to: i32, lr: f32, drawLimit: f64): i32 {
  readControl();
  let words = 0;
  const stopAt = draws + drawLimit;
  for (let s = from; s < to; s++) {
    if (draws >= stopAt) {
      lastWords = words;
      return s;
    }
    const a = load<i32>(starts + (<usize>s << 2));
    const b = load<i32>(starts + (<usize>(s + 1) << 2));
    words += b - a;
    let n = 0;
    for (let j = a; j < b; j++) {
      const w = load<i32>(corpus + (<usize>j << 2));
      if (w < 0 || w >= V) continue;
      if (SUBSAMPLE && w < VK) {
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
