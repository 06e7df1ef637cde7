import type { SgnsKernel } from './kernel.js';

/**
 * One thread's share of an offline corpus: sentences [first, end) of slot 0 for `epochs` passes,
 * at word2vec's linear decay over every thread's words (`wordsDone` is shared: each thread adds
 * the words it trained, and all read the total for the learning rate).
 */
export interface EpochsShare {
  first: number;
  end: number;
  epochs: number;
  lr: number;
  minLr: number;
  /** sentences per call into WebAssembly (about 100 keeps V8 in its optimising tier) */
  chunk: number;
  totalWords: number;
  wordsDone: Int32Array;
}

/** Runs a share on a kernel (the main thread and every worker run the same loop). */
export function trainEpochsShare(kernel: SgnsKernel, share: EpochsShare, onChunk?: (done: number) => void): void {
  for (let epoch = 0; epoch < share.epochs; epoch++) {
    for (let s = share.first; s < share.end;) {
      const done = Atomics.load(share.wordsDone, 0);
      const lr = Math.max(share.minLr, share.lr * (1 - done / share.totalWords));
      const r = kernel.train(0, s, Math.min(share.end, s + share.chunk), lr);
      s = r.next;
      Atomics.add(share.wordsDone, 0, r.words);
      onChunk?.(done + r.words);
    }
  }
}
