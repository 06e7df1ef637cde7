import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';

// kafkajs is CommonJS: Node's ESM loader exposes only its default export at run time
const { CompressionCodecs, CompressionTypes } = kafkajs;

// CommonJS packages without types; their shapes are small and stable
const require = createRequire(import.meta.url);
const snappyCodec = require('kafkajs-snappy') as () => KafkaCodec;
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array; decompress(src: Uint8Array): Uint8Array };
const xxh32 = require('lz4js/xxh32') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };

/** lz4js writes frames of blocks up to 4 MiB. */
const LZ4_BLOCK = 4 * 1024 * 1024;

/**
 * An LZ4 frame the broker accepts. lz4js leaves the block-independence flag unset, and Kafka's
 * LZ4 reader refuses dependent blocks (the broker answered UNKNOWN_SERVER_ERROR to every lz4
 * batch). A batch of at most one block has no dependencies, so the flag is set and the header
 * checksum (second byte of xxh32 over FLG and BD) written again.
 */
function lz4Frame(src: Uint8Array): Buffer {
  if (src.length > LZ4_BLOCK) throw new Error(`lz4: a batch of ${src.length} bytes is above one ${LZ4_BLOCK}-byte block`);
  const out = Buffer.from(lz4.compress(src));
  out[4] |= 0x20;
  out[6] = (xxh32.hash(0, out, 4, 2) >>> 8) & 0xff;
  return out;
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
      decompress: async (buffer) => Buffer.from(lz4.decompress(buffer)),
    });
    codecs[CompressionTypes.ZSTD] = () => ({
      // level 3: Kafka's default
      compress: async (encoder) => Buffer.from(zstdCompress(encoder.buffer, 3)),
      decompress: async (buffer) => Buffer.from(zstdDecompress(buffer)),
    });
  })();
  return registered;
}
