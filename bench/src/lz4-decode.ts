/**
 * What an lz4 batch costs a consumer to decode: lz4js' own frame decoder (what kafkajs consumers
 * used, allocating and zeroing the frame's 4 MiB block maximum per batch) against ours
 * (`lz4Unframe`, one reused scratch block), on frames our producers write, seeded data half
 * noise and half runs. Median [min, max] of the rounds, microseconds per batch.
 *
 *   npm run bench:lz4 -- [--rounds 5] [--sizes 2000,60000,500000] [--out FILE]
 */
import { createRequire } from 'node:module';
import { lz4Frame, lz4Unframe } from '@freshet/transport';
import { listArg, numberArg, parseArgs } from './lib/args.js';
import { emitResult, runEnvironment } from './lib/environment.js';

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, 'rounds', 5);
const sizes = listArg(args, 'sizes', [2000, 60_000, 500_000]);
// lz4js is the transport package's dependency: resolved from there
const lz4 = createRequire(import.meta.resolve('@freshet/transport'))('lz4js') as { decompress(src: Uint8Array): Uint8Array };

function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 1024 < 512 ? x & 0xff : (i >> 6) & 0xff;
  }
  return out;
}

/** microseconds per call, over enough calls to fill about 200 ms */
function time(fn: () => unknown): number {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    const ms = performance.now() - t0;
    if (ms > 200) return (ms * 1000) / reps;
    reps *= 2;
  }
}

const stats = (xs: number[]): { median: number; min: number; max: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

const rows = sizes.map((n, i) => {
  const frame = lz4Frame(bytes(n, i + 1));
  const lz4js: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < rounds; r++) {
    lz4js.push(time(() => lz4.decompress(frame)));
    ours.push(time(() => lz4Unframe(frame)));
  }
  const a = stats(lz4js);
  const b = stats(ours);
  return { batchBytes: n, frameBytes: frame.length, lz4jsMicroseconds: a, oursMicroseconds: b, speedup: a.median / b.median };
});

emitResult({ benchmark: 'lz4-decode', rounds, rows, environment: runEnvironment() }, args.get('out'));
