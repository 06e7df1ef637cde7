import { imageLabelWidth } from '@freshet/core';
import { VSE_CONFIG, VSE_CONTROL, VSE_COUNTERS } from '../abi.js';
import { MemoryLayout } from '../memory.js';
import { heapBase } from '../modules.js';
import type { TableRegions } from '../tables.js';
import type { VseSpec } from './spec.js';

/** Byte offsets of every region of an image-label kernel's memory. */
export interface VseLayout {
  width: number;
  ctrl: number;
  u: number;
  v: number;
  gu: number;
  gv: number;
  posHdr: number;
  posArena: number;
  positiveSlots: number;
  pairs: number;
  harm: number;
  tables: [number, number];
  sigma: [number, number];
  lists: number;
  listCapacity: number;
  threads: number;
  dirtyImages: number;
  dirtyLabels: number;
  /** f32 per label per image of a block of SCORE_BLOCK: scoreLabels' output (thread 0) */
  scores: number;
  /** i32 per image of a block: the images scoreLabels scores */
  scoreImages: number;
  /** i32 per label: its observed pairs in the pair set (the in-batch correction) */
  labelCounts: number;
  /** per thread: MAX_CANDIDATES (i32 id, f32 score) for self-adversarial steps */
  scratch: number;
  /** per thread: its configuration block, then its counter block */
  blocks: number;
}

/** Candidates a self-adversarial step weighs at most (assembly/vse-state.ts has the same). */
export const MAX_CANDIDATES = 64;

/** Images scored per pass over the label rows (evaluation). */
export const SCORE_BLOCK = 8;

/** Bytes of one thread's configuration and counter blocks. */
export const VSE_THREAD_BLOCKS = VSE_CONFIG.bytes + VSE_COUNTERS.bytes;

/** The regions of a kernel memory for a spec (they depend on the spec alone: every thread computes the same). */
export function vseLayout(spec: VseSpec): { layout: VseLayout; regions: MemoryLayout } {
  const c = spec.config;
  const width = imageLabelWidth(c);
  const rb = width * 4;
  const adagrad = c.optimizer === 'adagrad';
  const adaptive = spec.sampler.kind === 'adaptive';
  const cols = c.dim + (c.labelBias ? 1 : 0);
  const positiveSlots = spec.positiveSlots ?? c.imageCap * 16;
  const listCapacity = spec.listCapacity ?? 4096;
  const threads = spec.threads ?? 1;
  const m = new MemoryLayout('the image-label model', heapBase('vse'));
  const layout: VseLayout = {
    width,
    ctrl: m.take('control', VSE_CONTROL.bytes),
    u: m.take('image vectors', c.imageCap * rb),
    v: m.take('label vectors', c.labelCap * rb),
    gu: adagrad ? m.take('image AdaGrad sums', c.imageCap * rb) : 0,
    gv: adagrad ? m.take('label AdaGrad sums', c.labelCap * rb) : 0,
    posHdr: m.take('positive headers', c.imageCap * 8),
    posArena: m.take('positive labels', positiveSlots * 4),
    positiveSlots,
    pairs: m.take('pairs', spec.pairCapacity * 8),
    harm: m.take('WARP weights', (c.labelCap + 1) * 4),
    tables: [adaptive ? m.take('rank tables', cols * c.labelCap * 4) : 0, adaptive ? m.take('rank tables (second buffer)', cols * c.labelCap * 4) : 0],
    sigma: [m.take('sigma', rb), m.take('sigma (second buffer)', rb)],
    lists: m.take('step lists', threads * listCapacity * 12),
    listCapacity,
    threads,
    dirtyImages: spec.trackChanges === true ? m.take('changed images', c.imageCap) : 0,
    dirtyLabels: spec.trackChanges === true ? m.take('changed labels', c.labelCap) : 0,
    scores: m.take('label scores', SCORE_BLOCK * c.labelCap * 4),
    scoreImages: m.take('images to score', SCORE_BLOCK * 4),
    labelCounts: m.take('pairs per label', c.labelCap * 4),
    scratch: m.take('candidate scratch', threads * MAX_CANDIDATES * 8),
    blocks: m.take('thread blocks', threads * VSE_THREAD_BLOCKS),
  };
  return { layout, regions: m };
}

/** The rank-table regions of a kernel memory laid out for `spec`. */
export function vseTableRegions(spec: VseSpec, L: VseLayout): TableRegions {
  const c = spec.config;
  return { ctrl: L.ctrl, tables: L.tables, sigma: L.sigma, dims: c.dim + (c.labelBias ? 1 : 0), stride: c.labelCap, items: L.v, width: L.width };
}
