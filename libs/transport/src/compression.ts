import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';

// kafkajs is CommonJS: Node's ESM loader exposes only its default export at run time
const { CompressionCodecs, CompressionTypes } = kafkajs;

// CommonJS packages without types; their shapes are small and stable
const require = createRequire(import.meta.url);
const snappyCodec = require('kafkajs-snappy') as () => KafkaCodec;
const lz4 = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array): Uint8Array;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};
const xxh32 = require('lz4js/xxh32') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };

/** lz4js writes frames of blocks up to 4 MiB. */
const LZ4_BLOCK = 4 * 1024 * 1024;

/**
 * An LZ4 frame the broker accepts. lz4js leaves the block-independence flag unset, and Kafka's
 * LZ4 reader refuses dependent blocks (the broker answered UNKNOWN_SERVER_ERROR to every lz4
 * batch). A batch of at most one block has no dependencies, so the flag is set and the header
 * checksum (second byte of xxh32 over FLG and BD) written again.
 */
export function lz4Frame(src: Uint8Array): Buffer {
  if (src.length > LZ4_BLOCK) throw new Error(`lz4: a batch of ${src.length} bytes is above one ${LZ4_BLOCK}-byte block`);
  const out = Buffer.from(lz4.compress(src));
  out[4] |= 0x20;
  out[6] = (xxh32.hash(0, out, 4, 2) >>> 8) & 0xff;
  return out;
}

/** LZ4 frame block sizes by the BD byte's block-maximum field (4: 64 KiB ... 7: 4 MiB). */
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
/** one scratch block per size, reused: blocks are decoded here, then copied out at their real size */
const lz4Scratch = new Map<number, Uint8Array>();

/**
 * Decodes an LZ4 frame at the cost of its content. lz4js' own decompress allocates (and zeroes)
 * the frame's block maximum for every block, 4 MiB for the frames lz4js and we write, even for a
 * batch of a few hundred bytes: a consumer of lz4 batches spent most of its time there and held
 * its event loop for up to a second (a CPU profile of the soak's publisher). Kafka's frames have
 * independent blocks, so each is decoded into a reused scratch block; a frame with dependent blocks
 * goes to lz4js as before.
 */
export function lz4Unframe(src: Uint8Array): Buffer {
  if (src.length < 7 || src[0] !== 0x04 || src[1] !== 0x22 || src[2] !== 0x4d || src[3] !== 0x18) throw new Error('lz4: not an LZ4 frame (bad magic number)');
  const flg = src[4];
  const independent = (flg & 0x20) !== 0;
  const blockMax = LZ4_BLOCK_MAX[(src[5] >> 4) & 7];
  if (!independent || blockMax === undefined) return Buffer.from(lz4.decompress(src));
  const blockChecksums = (flg & 0x10) !== 0;
  let scratch = lz4Scratch.get(blockMax);
  if (scratch === undefined) lz4Scratch.set(blockMax, (scratch = new Uint8Array(blockMax)));
  const parts: Buffer[] = [];
  // magic, FLG, BD, the content size when flagged, the header checksum
  let i = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + 1;
  for (;;) {
    if (i + 4 > src.length) throw new Error('lz4: frame ends before its end mark');
    const word = (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
    i += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (i + size > src.length) throw new Error('lz4: a block runs past the end of the frame');
    if ((word & 0x80000000) !== 0) parts.push(Buffer.from(src.subarray(i, i + size)));
    else parts.push(Buffer.from(scratch.subarray(0, lz4.decompressBlock(src, scratch, i, size, 0))));
    i += size + (blockChecksums ? 4 : 0);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** What kafkajs asks of a codec. */
interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** The producer compressions a service can be configured with (Kafka's compression.type). */
export const producerCompressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type ProducerCompression = (typeof producerCompressions)[number];

export const compressionType: Record<ProducerCompression, kafkajs.CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

let registered: Promise<void> | null = null;

/**
 * Teaches kafkajs every codec Kafka has. kafkajs ships only gzip and throws KafkaJSNotImplemented
 * on a snappy, lz4 or zstd batch, which stopped a consumer for good at the first record a Java
 * producer (compression.type=lz4 or zstd is common) or kcat sent compressed. All three are pure
 * JavaScript or WebAssembly here (nothing native to build): snappy with Kafka's xerial framing
 * (kafkajs-snappy), the LZ4 frame format (lz4js), zstd (fzstd decompresses frames of unknown
 * size; @bokuweb/zstd-wasm compresses). Registration is process-wide and idempotent.
 */
export function registerCompressionCodecs(): Promise<void> {
  registered ??= (async () => {
    await zstdInit();
    const codecs = CompressionCodecs as unknown as Record<number, () => KafkaCodec>;
    codecs[CompressionTypes.Snappy] = snappyCodec;
    codecs[CompressionTypes.LZ4] = () => ({
      compress: async (encoder) => lz4Frame(encoder.buffer),
      decompress: async (buffer) => lz4Unframe(buffer),
    });
    codecs[CompressionTypes.ZSTD] = () => ({
      // level 3: Kafka's default
      compress: async (encoder) => Buffer.from(zstdCompress(encoder.buffer, 3)),
      decompress: async (buffer) => Buffer.from(zstdDecompress(buffer)),
    });
  })();
  return registered;
}
