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

import { SgnsConfig, SgnsControl, SgnsCounters, SgnsSampler } from './abi';
import { contextWeightMax, dot, drawDimension, drawRank, lnUnit, nextFloat, nextInt, setSeed, tableItem } from './common';

// ---- layout and settings (configure, from the configuration block) ----
let K4: i32 = 0; // row stride in floats (dim rounded up to a multiple of 4; padding stays 0)
let DIM: i32 = 0; // real dimension (rank tables exist for these)
let IN: usize = 0; // input vectors f32[cap * K4]
let OUT: usize = 0; // output vectors f32[cap * K4]
let SIG: usize = 0; // sigmoid table f32[SIG_SIZE + 1]
let CTRL: usize = 0; // control block
let DIRTY: usize = 0; // u8 per word: set when its input vector changes (0: not tracked)
let DIRTY_OUT: usize = 0; // u8 per word: set when its output vector changes (incremental checkpoints; 0: not tracked)
let WINDOW: i32 = 5;
let NEGATIVES: i32 = 5;
let SUBSAMPLE: bool = true;
let MODE: i32 = 0; // SgnsSampler code
let MIX: f32 = 0;
let RETRIES: i32 = 10;
let HEAD: bool = false; // the tables rank only the most frequent words on purpose: the rest come from the popularity mix

// ---- per-instance scratch (each worker thread has its own) ----
let NEU1E: usize = 0; // f32[K4]
let SEN: usize = 0; // i32[max sentence length]
let TARGETS: usize = 0; // i32[NEGATIVES + 1]: this pair's centre and negatives
let touched: f32 = 0; // sink for the early row loads (keeps them from being optimised away)

// ---- read from the control block at every call (the main thread changes it) ----
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

/** Reads the configuration block at `cfg`. */
export function configure(cfg: usize): void {
  K4 = load<i32>(cfg + SgnsConfig.stride);
  DIM = load<i32>(cfg + SgnsConfig.dim);
  IN = <usize>load<u32>(cfg + SgnsConfig.input);
  OUT = <usize>load<u32>(cfg + SgnsConfig.output);
  SIG = <usize>load<u32>(cfg + SgnsConfig.sigmoid);
  CTRL = <usize>load<u32>(cfg + SgnsConfig.control);
  WINDOW = load<i32>(cfg + SgnsConfig.window);
  NEGATIVES = load<i32>(cfg + SgnsConfig.negatives);
  SUBSAMPLE = load<i32>(cfg + SgnsConfig.subsample) != 0;
  MODE = load<i32>(cfg + SgnsConfig.sampler);
  MIX = load<f32>(cfg + SgnsConfig.mixShare);
  RETRIES = load<i32>(cfg + SgnsConfig.maxRetries);
  DIRTY = <usize>load<u32>(cfg + SgnsConfig.changed);
  DIRTY_OUT = <usize>load<u32>(cfg + SgnsConfig.changedOutput);
  HEAD = load<i32>(cfg + SgnsConfig.headOnly) != 0;
  NEU1E = <usize>load<u32>(cfg + SgnsConfig.neu1e);
  SEN = <usize>load<u32>(cfg + SgnsConfig.sentence);
  TARGETS = <usize>load<u32>(cfg + SgnsConfig.targets);
}

/** Writes what configure() read back into a configuration block (the ABI test compares). */
export function echoConfig(out: usize): void {
  store<i32>(out + SgnsConfig.stride, K4);
  store<i32>(out + SgnsConfig.dim, DIM);
  store<u32>(out + SgnsConfig.input, <u32>IN);
  store<u32>(out + SgnsConfig.output, <u32>OUT);
  store<u32>(out + SgnsConfig.sigmoid, <u32>SIG);
  store<u32>(out + SgnsConfig.control, <u32>CTRL);
  store<i32>(out + SgnsConfig.window, WINDOW);
  store<i32>(out + SgnsConfig.negatives, NEGATIVES);
  store<i32>(out + SgnsConfig.subsample, SUBSAMPLE ? 1 : 0);
  store<i32>(out + SgnsConfig.sampler, MODE);
  store<f32>(out + SgnsConfig.mixShare, MIX);
  store<i32>(out + SgnsConfig.maxRetries, RETRIES);
  store<u32>(out + SgnsConfig.changed, <u32>DIRTY);
  store<u32>(out + SgnsConfig.changedOutput, <u32>DIRTY_OUT);
  store<i32>(out + SgnsConfig.headOnly, HEAD ? 1 : 0);
  store<u32>(out + SgnsConfig.neu1e, <u32>NEU1E);
  store<u32>(out + SgnsConfig.sentence, <u32>SEN);
  store<u32>(out + SgnsConfig.targets, <u32>TARGETS);
}

export function seed(a: u32, b: u32, c: u32, d: u32): void {
  setSeed(a, b, c, d);
}

@inline function readControl(): void {
  V = load<i32>(CTRL + SgnsControl.vocab);
  VA = load<i32>(CTRL + SgnsControl.aliasSize);
  PROB = <usize>load<u32>(CTRL + SgnsControl.alias);
  ALIAS = PROB + (<usize>load<i32>(CTRL + SgnsControl.cap) << 2);
  TABLES = <usize>load<u32>(CTRL + SgnsControl.tables);
  SIGMA = <usize>load<u32>(CTRL + SgnsControl.sigma);
  TV = load<i32>(CTRL + SgnsControl.tableSize);
  TSTRIDE = load<i32>(CTRL + SgnsControl.tableStride);
  LAMBDA = load<f32>(CTRL + SgnsControl.lambda);
  KEEP = <usize>load<u32>(CTRL + SgnsControl.keep);
  VK = load<i32>(CTRL + SgnsControl.keepSize);
}

/** Reads the control block and writes what this kernel took from it into `out` (the ABI test). */
export function echoControl(out: usize): void {
  readControl();
  store<i32>(out + SgnsControl.vocab, V);
  store<i32>(out + SgnsControl.aliasSize, VA);
  store<u32>(out + SgnsControl.alias, <u32>PROB);
  store<i32>(out + SgnsControl.cap, <i32>((ALIAS - PROB) >> 2));
  store<u32>(out + SgnsControl.tables, <u32>TABLES);
  store<u32>(out + SgnsControl.sigma, <u32>SIGMA);
  store<i32>(out + SgnsControl.tableSize, TV);
  store<i32>(out + SgnsControl.tableStride, TSTRIDE);
  store<f32>(out + SgnsControl.lambda, LAMBDA);
  store<u32>(out + SgnsControl.keep, <u32>KEEP);
  store<i32>(out + SgnsControl.keepSize, VK);
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
  if (MODE == SgnsSampler.adaptive && TV > 0) wmax = contextWeightMax(l1, SIGMA, bytes);
  store<i32>(TARGETS, center);
  let sink: f32 = load<f32>(OUT + <usize>center * bytes);
  for (let d = 1; d <= NEGATIVES; d++) {
    let target: i32;
    if (MODE == SgnsSampler.adaptive) target = adaptiveDraw(l1, wmax, center);
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
    if (DIRTY_OUT != 0) store<u8>(DIRTY_OUT + <usize>target, 1);
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

/** Writes this instance's running totals into a counter block. */
export function writeCounters(out: usize): void {
  store<f64>(out + SgnsCounters.pairs, pairs);
  store<f64>(out + SgnsCounters.draws, draws);
  store<f64>(out + SgnsCounters.fallbacks, fallbacks);
  store<f64>(out + SgnsCounters.mixed, mixed);
  store<f64>(out + SgnsCounters.lossSum, lossSum);
  store<f64>(out + SgnsCounters.lossPairs, lossPairs);
}

/** Negative draws so far (the cadence of the rank tables counts them at every call). */
export function drawsSoFar(): f64 {
  return draws;
}
