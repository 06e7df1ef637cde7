import { SGNS_CONFIG, SGNS_CONTROL, SGNS_COUNTERS } from '../abi.js';
import { MemoryLayout } from '../memory.js';
import { heapBase } from '../modules.js';
import type { TableRegions } from '../tables.js';
import type { SgnsSpec } from './spec.js';

/** Byte offsets of every region of a skip-gram kernel's memory. */
export interface SgnsLayout {
  /** floats per row: dim rounded up to a multiple of 4 */
  k4: number;
  ctrl: number;
  input: number;
  output: number;
  alias: [number, number];
  keep: [number, number];
  sig: number;
  tables: [number, number];
  sigma: [number, number];
  /** per-thread scratch: neu1e f32[k4], targets i32[negatives + 1], sentence i32[maxSentence] */
  scratch: number;
  scratchBytes: number;
  /** per slot: tokens i32[slotTokens], then starts i32[slotSentences + 1] */
  slots: number;
  slotBytes: number;
  dirty: number;
  /** u8 per word: its output row changed (0: not tracked) */
  dirtyOutput: number;
  /** per thread: its configuration block, then its counter block */
  blocks: number;
}

/** Bytes of one thread's configuration and counter blocks. */
export const SGNS_THREAD_BLOCKS = SGNS_CONFIG.bytes + SGNS_COUNTERS.bytes;

/** Entries of the sigmoid table (word2vec's 1000 over [-6, 6], plus the end point). */
export const SIGMOID_ENTRIES = 1001;

export function sgnsLayout(spec: SgnsSpec): { layout: SgnsLayout; regions: MemoryLayout } {
  const k4 = Math.ceil(spec.dim / 4) * 4;
  const v = spec.vocabCap;
  const adaptive = spec.sampler === 'adaptive';
  const m = new MemoryLayout('the skip-gram model', heapBase('sgns'));
  const scratchBytes = Math.ceil((k4 * 4 + (spec.negatives + 1) * 4 + spec.maxSentence * 4) / 64) * 64;
  const slotBytes = Math.ceil((spec.slotTokens * 4 + (spec.slotSentences + 1) * 4) / 64) * 64;
  const layout: SgnsLayout = {
    k4,
    ctrl: m.take('control', SGNS_CONTROL.bytes),
    input: m.take('input vectors', v * k4 * 4),
    output: m.take('output vectors', v * k4 * 4),
    alias: [m.take('alias table', v * 8), m.take('alias table (second buffer)', v * 8)],
    keep: [m.take('keep probabilities', v * 4), m.take('keep probabilities (second buffer)', v * 4)],
    sig: m.take('sigmoid table', SIGMOID_ENTRIES * 4),
    tables: [adaptive ? m.take('rank tables', spec.dim * v * 4) : 0, adaptive ? m.take('rank tables (second buffer)', spec.dim * v * 4) : 0],
    sigma: [m.take('sigma', k4 * 4), m.take('sigma (second buffer)', k4 * 4)],
    scratch: m.take('thread scratch', scratchBytes * spec.threads),
    scratchBytes,
    slots: m.take('corpus slots', slotBytes * spec.slots),
    slotBytes,
    dirty: spec.trackChanges === true ? m.take('changed words', v) : 0,
    dirtyOutput: spec.trackChanges === true ? m.take('changed output rows', v) : 0,
    blocks: m.take('thread blocks', spec.threads * SGNS_THREAD_BLOCKS),
  };
  return { layout, regions: m };
}

export function sgnsTableRegions(spec: SgnsSpec, L: SgnsLayout): TableRegions {
  return { ctrl: L.ctrl, tables: L.tables, sigma: L.sigma, dims: spec.dim, stride: spec.vocabCap, items: L.output, width: L.k4 };
}
