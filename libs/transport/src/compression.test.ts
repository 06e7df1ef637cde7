import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lz4Frame, lz4Unframe } from './compression.js';

const require = createRequire(import.meta.url);
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array; decompress(src: Uint8Array): Uint8Array };

/** seeded bytes: half noise (incompressible), half runs (compressible) */
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

/** the data blocks of a single-block lz4js frame (no content size, no block checksums) */
function firstBlock(frame: Uint8Array): Buffer {
  const size = Buffer.from(frame).readUInt32LE(7) & 0x7fffffff;
  return Buffer.from(frame.subarray(7, 7 + 4 + size));
}

describe('lz4Unframe', () => {
  it('decodes our frames to the bytes lz4js decodes, from empty to 512 KiB', () => {
    for (const [n, seed] of [
      [0, 1],
      [1, 2],
      [300, 3],
      [70_000, 4],
      [512 * 1024, 5],
    ] as const) {
      const data = bytes(n, seed);
      const frame = lz4Frame(data);
      expect(lz4Unframe(frame).equals(data), `${n} bytes`).toBe(true);
      expect(lz4Unframe(frame).equals(Buffer.from(lz4.decompress(frame)))).toBe(true);
    }
  });

  it('decodes a frame of several blocks, compressed and stored, with block checksums and a content size', () => {
    const a = bytes(5000, 7);
    const b = Buffer.from('stored as is');
    const c = bytes(3000, 8);
    const stored = Buffer.alloc(4);
    stored.writeUInt32LE((0x80000000 | b.length) >>> 0);
    const checksum = Buffer.alloc(4); // block checksums are Kafka's batch CRC's job: skipped, not verified
    const withSum = (block: Buffer): Buffer => Buffer.concat([block, checksum]);
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40 | 0x20 | 0x10 | 0x08, 0x40, ...new Array<number>(8).fill(0), 0x00]);
    const frame = Buffer.concat([
      header,
      withSum(firstBlock(lz4.compress(a))),
      withSum(Buffer.concat([stored, b])),
      withSum(firstBlock(lz4.compress(c))),
      Buffer.alloc(4),
    ]);
    expect(lz4Unframe(frame).equals(Buffer.concat([a, b, c]))).toBe(true);
  });

  it('refuses what is not a whole LZ4 frame', () => {
    expect(() => lz4Unframe(Buffer.from('not lz4 at all'))).toThrow(/bad magic number/);
    const frame = lz4Frame(bytes(2000, 9));
    expect(() => lz4Unframe(frame.subarray(0, frame.length - 10))).toThrow(/lz4:/);
  });
});
