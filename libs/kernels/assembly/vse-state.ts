// The image-label kernel's state: its layout and settings (from the configuration block), what the
// control block says exists (read at every call), and its running totals. Every field crosses the
// boundary by the names generated into ./abi from src/abi.ts; each thread's instance has its own
// copy of these globals.

import { VseConfig, VseControl, VseCounters, VseSampler } from './abi';

// ---- layout and settings (configure) ----
export let DIM: i32 = 0; // semantic dimensions
export let COLS: i32 = 0; // DIM + 1 with the bias lane
export let RB: usize = 0; // row bytes (COLS rounded up to 4 floats, times 4)
export let U: usize = 0; // image rows
export let V: usize = 0; // label rows
export let GU: usize = 0; // AdaGrad accumulators of U (0: plain SGD)
export let GV: usize = 0; // AdaGrad accumulators of V
export let POSHDR: usize = 0; // per image: i32 offset into POSARENA (in ints), i32 count
export let POSARENA: usize = 0; // positive label ids
export let PAIRS: usize = 0; // observed (image, label) pairs, i32 x 2, drawn from uniformly
export let HARM: usize = 0; // f32 L(K) = sum over j <= K of 1/j, WARP's rank weight
export let CTRL: usize = 0; // control block
export let DIRTY_I: usize = 0; // u8 per image: set when SGD changes the row (0: not tracked)
export let DIRTY_L: usize = 0; // u8 per label
export let BIAS: bool = false;
export let MARGIN: f32 = 1;
export let REG: f32 = 0.01;
export let MODE: i32 = 0; // VseSampler code
export let CAND: i32 = 1; // candidates scored per draw; the hardest is kept (1: no scoring)
export let MAXSAMPLED: i32 = 0x7fffffff; // WARP's cap on draws per step
export let MIX: f32 = 0; // rank tables: share of uniform draws mixed in
export let RETRIES: i32 = 10; // rank tables: redraws after positives before the uniform fallback
export let AUTO_LABELS: i32 = 1000;
export let AUTO_DNS_LABELS: i32 = 1000;
export let AUTO_CANDIDATES: i32 = 1;
export let COUNTS: usize = 0; // i32 per label: observed pairs (in-batch correction)
export let TEMPERATURE: f32 = 1; // self-adversarial: inverse temperature of the candidate weights
export let SCRATCH: usize = 0; // this thread's candidates: i32 id, f32 score each (MAX_CANDIDATES)

/** Candidates a self-adversarial step weighs at most (the scratch region holds that many). */
export const MAX_CANDIDATES: i32 = 64;

// ---- read from the control block at every call (the main thread changes it) ----
export let NL: i32 = 0;
export let NP: i32 = 0;
export let TABLES: usize = 0;
export let SIGMA: usize = 0;
export let TV: i32 = 0;
export let TSTRIDE: i32 = 0;
export let LAMBDA: f32 = 1;

// ---- running totals (this instance: each thread has its own) ----
export let steps: f64 = 0;
export let updates: f64 = 0;
export let lossSum: f64 = 0;
export let draws: f64 = 0;
export let rejections: f64 = 0;
export let fallbacks: f64 = 0;
export let mixed: f64 = 0;
export let scored: f64 = 0;
export let noViolator: f64 = 0;

// what the last draw learned on the way (WARP's rank weight for the step)
export let WEIGHT: f32 = 1;

/** Reads the configuration block at `cfg`. */
export function configure(cfg: usize): void {
  DIM = load<i32>(cfg + VseConfig.dim);
  COLS = load<i32>(cfg + VseConfig.cols);
  RB = <usize>load<i32>(cfg + VseConfig.rowBytes);
  U = <usize>load<u32>(cfg + VseConfig.imageRows);
  V = <usize>load<u32>(cfg + VseConfig.labelRows);
  GU = <usize>load<u32>(cfg + VseConfig.imageSums);
  GV = <usize>load<u32>(cfg + VseConfig.labelSums);
  POSHDR = <usize>load<u32>(cfg + VseConfig.positiveHeaders);
  POSARENA = <usize>load<u32>(cfg + VseConfig.positiveArena);
  PAIRS = <usize>load<u32>(cfg + VseConfig.pairs);
  HARM = <usize>load<u32>(cfg + VseConfig.warpWeights);
  CTRL = <usize>load<u32>(cfg + VseConfig.control);
  DIRTY_I = <usize>load<u32>(cfg + VseConfig.changedImages);
  DIRTY_L = <usize>load<u32>(cfg + VseConfig.changedLabels);
  BIAS = load<i32>(cfg + VseConfig.labelBias) != 0;
  MARGIN = load<f32>(cfg + VseConfig.margin);
  REG = load<f32>(cfg + VseConfig.reg);
  MODE = load<i32>(cfg + VseConfig.sampler);
  const c = load<i32>(cfg + VseConfig.candidates);
  CAND = c < 1 ? 1 : c;
  MAXSAMPLED = load<i32>(cfg + VseConfig.maxSampled);
  MIX = load<f32>(cfg + VseConfig.mixShare);
  RETRIES = load<i32>(cfg + VseConfig.maxRetries);
  AUTO_LABELS = load<i32>(cfg + VseConfig.autoLabels);
  AUTO_DNS_LABELS = load<i32>(cfg + VseConfig.autoDnsLabels);
  const ac = load<i32>(cfg + VseConfig.autoCandidates);
  AUTO_CANDIDATES = ac < 1 ? 1 : ac;
  COUNTS = <usize>load<u32>(cfg + VseConfig.labelCounts);
  TEMPERATURE = load<f32>(cfg + VseConfig.temperature);
  SCRATCH = <usize>load<u32>(cfg + VseConfig.scratch);
}

/** Writes what configure() read back into a configuration block (the ABI test compares). */
export function echoConfig(out: usize): void {
  store<i32>(out + VseConfig.dim, DIM);
  store<i32>(out + VseConfig.cols, COLS);
  store<i32>(out + VseConfig.rowBytes, <i32>RB);
  store<u32>(out + VseConfig.imageRows, <u32>U);
  store<u32>(out + VseConfig.labelRows, <u32>V);
  store<u32>(out + VseConfig.imageSums, <u32>GU);
  store<u32>(out + VseConfig.labelSums, <u32>GV);
  store<u32>(out + VseConfig.positiveHeaders, <u32>POSHDR);
  store<u32>(out + VseConfig.positiveArena, <u32>POSARENA);
  store<u32>(out + VseConfig.pairs, <u32>PAIRS);
  store<u32>(out + VseConfig.warpWeights, <u32>HARM);
  store<u32>(out + VseConfig.control, <u32>CTRL);
  store<u32>(out + VseConfig.changedImages, <u32>DIRTY_I);
  store<u32>(out + VseConfig.changedLabels, <u32>DIRTY_L);
  store<i32>(out + VseConfig.labelBias, BIAS ? 1 : 0);
  store<f32>(out + VseConfig.margin, MARGIN);
  store<f32>(out + VseConfig.reg, REG);
  store<i32>(out + VseConfig.sampler, MODE);
  store<i32>(out + VseConfig.candidates, CAND);
  store<i32>(out + VseConfig.maxSampled, MAXSAMPLED);
  store<f32>(out + VseConfig.mixShare, MIX);
  store<i32>(out + VseConfig.maxRetries, RETRIES);
  store<i32>(out + VseConfig.autoLabels, AUTO_LABELS);
  store<i32>(out + VseConfig.autoDnsLabels, AUTO_DNS_LABELS);
  store<i32>(out + VseConfig.autoCandidates, AUTO_CANDIDATES);
  store<u32>(out + VseConfig.labelCounts, <u32>COUNTS);
  store<f32>(out + VseConfig.temperature, TEMPERATURE);
  store<u32>(out + VseConfig.scratch, <u32>SCRATCH);
}

@inline export function readControl(): void {
  NL = load<i32>(CTRL + VseControl.labels);
  NP = load<i32>(CTRL + VseControl.pairs);
  TABLES = <usize>load<u32>(CTRL + VseControl.tables);
  SIGMA = <usize>load<u32>(CTRL + VseControl.sigma);
  TV = load<i32>(CTRL + VseControl.tableSize);
  TSTRIDE = load<i32>(CTRL + VseControl.tableStride);
  LAMBDA = load<f32>(CTRL + VseControl.lambda);
}

/** Reads the control block and writes what this kernel took from it into `out` (the ABI test). */
export function echoControl(out: usize): void {
  readControl();
  store<i32>(out + VseControl.labels, NL);
  store<i32>(out + VseControl.pairs, NP);
  store<u32>(out + VseControl.tables, <u32>TABLES);
  store<u32>(out + VseControl.sigma, <u32>SIGMA);
  store<i32>(out + VseControl.tableSize, TV);
  store<i32>(out + VseControl.tableStride, TSTRIDE);
  store<f32>(out + VseControl.lambda, LAMBDA);
}

/** Writes this instance's running totals into a counter block. */
export function writeCounters(out: usize): void {
  store<f64>(out + VseCounters.steps, steps);
  store<f64>(out + VseCounters.updates, updates);
  store<f64>(out + VseCounters.lossSum, lossSum);
  store<f64>(out + VseCounters.draws, draws);
  store<f64>(out + VseCounters.rejections, rejections);
  store<f64>(out + VseCounters.fallbacks, fallbacks);
  store<f64>(out + VseCounters.mixed, mixed);
  store<f64>(out + VseCounters.candidatesScored, scored);
  store<f64>(out + VseCounters.noViolator, noViolator);
}

/** The sampler in force for the current label count (auto moves from uniform to WARP as labels grow). */
@inline export function mode(): i32 {
  return MODE == VseSampler.auto ? (NL >= AUTO_LABELS ? VseSampler.warp : VseSampler.uniform) : MODE;
}

/** Candidates scored per uniform or popularity draw: auto's own count in its middle band of label counts. */
@inline export function candidates(): i32 {
  return MODE == VseSampler.auto && NL >= AUTO_DNS_LABELS ? AUTO_CANDIDATES : CAND;
}

/** Negative draws so far (the cadence of the rank tables counts them at every call). */
export function drawsSoFar(): f64 {
  return draws;
}
