import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { CheckpointError } from './errors.js';

/**
 * A checkpoint file: the model and the consumer offsets it reflects, written together so that a
 * restart resumes exactly where the saved model left off, and able to prove itself on the way
 * back in (format 3):
 *
 *   bytes 0-3    "FRK3"             magic
 *   bytes 4-7    uint32 LE H         header length (JSON plus space padding)
 *   bytes 8-11   uint32 LE           CRC-32 of bytes 0-7 and the H header bytes
 *   bytes 12..   H bytes of JSON     metadata and every blob's type, offset, length and CRC-32
 *   then         blobs               raw little-endian Float32/Int32/Float64 arrays, each zero-padded to 8 bytes
 *   end          exactly after the last blob's padding (a truncated or extended file is damaged)
 *
 * Every byte is covered: a flipped bit anywhere, a truncation at any byte or a non-finite value
 * in a float blob is found before anything is restored. Written to a temporary file, fsynced,
 * then renamed over the old one, which is kept as the previous checkpoint (`<path>.1` and older,
 * `keep` files in all): a crash mid-write leaves the previous checkpoints intact. Format 2 files
 * ("FRCK", no checksums) from before are still read, unverified.
 */
export type Blob = Float32Array | Int32Array | Float64Array;

interface BlobEntry {
  name: string;
  type: 'f32' | 'i32' | 'f64';
  offset: number;
  length: number;
  /** CRC-32 of the blob's bytes and padding (format 3) */
  crc?: number;
}

const MAGIC = Buffer.from('FRK3');
const LEGACY_MAGIC = Buffer.from('FRCK');
const PREFIX = 12;

const padded = (bytes: number): number => Math.ceil(bytes / 8) * 8;
const bytesOf = (blob: Blob): Uint8Array => new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);

/** The previous checkpoints kept beside `path`: `<path>.1` (the one before), `<path>.2`, ... */
export function previousCheckpoint(path: string, age: number): string {
  return `${path}.${age}`;
}

/**
 * Writes the checkpoint with asynchronous I/O (the trainer keeps training meanwhile); resolves to
 * its size in bytes, or -1 when `mayReplace` (asked after the data is durable, just before the
 * rename) refuses: then the old file stays and the new one is removed. With `keep` > 1 the file it
 * replaces becomes `<path>.1`, that one `<path>.2`, and so on up to keep - 1; older files left
 * from before (an increment chain that a full checkpoint ended) are removed.
 */
export async function writeCheckpoint(
  path: string,
  header: Record<string, unknown>,
  blobs: Record<string, Blob>,
  mayReplace: () => boolean = () => true,
  keep = 1,
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const entries: BlobEntry[] = [];
  let offset = 0;
  for (const [name, blob] of Object.entries(blobs)) {
    const type = blob instanceof Float32Array ? 'f32' : blob instanceof Int32Array ? 'i32' : 'f64';
    const pad = padded(blob.byteLength) - blob.byteLength;
    entries.push({ name, type, offset, length: blob.length, crc: crc32(Buffer.alloc(pad), crc32(bytesOf(blob))) });
    offset += padded(blob.byteLength);
  }
  const json = Buffer.from(JSON.stringify({ ...header, blobs: entries }));
  const headerBytes = Buffer.concat([json, Buffer.alloc(padded(PREFIX + json.length) - PREFIX - json.length, 0x20)]);
  const prefix = Buffer.alloc(PREFIX);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  prefix.writeUInt32LE(crc32(headerBytes, crc32(prefix.subarray(0, 8))), 8);
  // unique per writer: two instances on a shared volume may have the same pid
  const tmp = `${path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  const file = await open(tmp, 'w');
  let written = 0;
  try {
    written += (await file.write(prefix)).bytesWritten;
    written += (await file.write(headerBytes)).bytesWritten;
    for (const blob of Object.values(blobs)) {
      written += (await file.write(bytesOf(blob))).bytesWritten;
      const extra = padded(blob.byteLength) - blob.byteLength;
      if (extra > 0) written += (await file.write(Buffer.alloc(extra))).bytesWritten;
    }
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  // the last moment to find out that another writer took over (the slow part, writing and
  // fsyncing, is behind us, so the window between this check and the rename is tiny)
  if (!mayReplace()) {
    await rm(tmp, { force: true });
    return -1;
  }
  // the one it replaces becomes the previous checkpoint, the oldest kept drops out
  for (let age = keep - 1; age >= 1; age--) {
    const from = age === 1 ? path : previousCheckpoint(path, age - 1);
    if (existsSync(from)) await rename(from, previousCheckpoint(path, age));
  }
  await rename(tmp, path);
  for (let age = Math.max(1, keep); existsSync(previousCheckpoint(path, age)); age++) await rm(previousCheckpoint(path, age), { force: true });
  return written;
}

/** A checkpoint read back whole, every byte of it verified (format 3). */
export interface ReadCheckpoint {
  header: Record<string, unknown>;
  blobs: Map<string, Blob>;
  /** false for a format 2 file: it carries no checksums */
  verified: boolean;
}

/** Reads and verifies a checkpoint (null when there is none); a damaged one throws CheckpointError DAMAGED, saying which part. */
export function readCheckpoint(path: string): ReadCheckpoint | null {
  if (!existsSync(path)) return null;
  const file = readFileSync(path);
  const damaged = (part: string): never => {
    throw new CheckpointError('DAMAGED', `checkpoint ${path} is damaged: ${part}`);
  };
  if (file.length >= 8 && file.subarray(0, 4).equals(LEGACY_MAGIC)) return readLegacy(path, file);
  if (file.length < PREFIX || !file.subarray(0, 4).equals(MAGIC))
    damaged(file.length < PREFIX ? `it is ${file.length} bytes, shorter than its prefix` : 'its first bytes are not a freshet checkpoint');
  const headerLength = file.readUInt32LE(4);
  if (PREFIX + headerLength > file.length) damaged(`its header (${headerLength} bytes) runs past the end of the file (${file.length} bytes)`);
  const headerBytes = file.subarray(PREFIX, PREFIX + headerLength);
  if (crc32(headerBytes, crc32(file.subarray(0, 8))) !== file.readUInt32LE(8)) damaged('the header does not match its checksum');
  let header: Record<string, unknown> & { blobs?: BlobEntry[] };
  try {
    header = JSON.parse(headerBytes.toString()) as Record<string, unknown> & { blobs?: BlobEntry[] };
  } catch {
    return damaged('the header is not JSON');
  }
  const entries = Array.isArray(header.blobs) ? header.blobs : damaged('the header lists no blobs');
  const base = PREFIX + headerLength;
  const blobs = new Map<string, Blob>();
  let end = base;
  for (const e of entries) {
    const width = e.type === 'f64' ? 8 : 4;
    const start = base + e.offset;
    const stop = start + padded(e.length * width);
    if (stop > file.length) damaged(`blob ${e.name} runs past the end of the file (the file is truncated)`);
    if (crc32(file.subarray(start, stop)) !== e.crc) damaged(`blob ${e.name} does not match its checksum`);
    // copy out: the views must not keep the whole file alive, and offsets must be aligned
    const copy = new Uint8Array(e.length * width);
    copy.set(file.subarray(start, start + copy.length));
    const blob = e.type === 'f32' ? new Float32Array(copy.buffer) : e.type === 'i32' ? new Int32Array(copy.buffer) : new Float64Array(copy.buffer);
    const bad = e.type === 'i32' ? -1 : firstNonFinite(blob as Float32Array | Float64Array);
    if (bad >= 0) damaged(`blob ${e.name} holds a non-finite value (${blob[bad]} at ${bad})`);
    blobs.set(e.name, blob);
    end = Math.max(end, stop);
  }
  if (end !== file.length) damaged(`it is ${file.length} bytes where its header says ${end}`);
  return { header, blobs, verified: true };
}

/** The index of the first NaN or infinite value, or -1. */
export function firstNonFinite(values: Float32Array | Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** A format 2 checkpoint (no checksums): read as it was written, its numbers checked finite. */
function readLegacy(path: string, file: Buffer): ReadCheckpoint {
  const damaged = (part: string): never => {
    throw new CheckpointError('DAMAGED', `checkpoint ${path} (format 2, without checksums) is damaged: ${part}`);
  };
  const headerLength = file.readUInt32LE(4);
  let header: Record<string, unknown> & { blobs: BlobEntry[] };
  try {
    header = JSON.parse(file.subarray(8, 8 + headerLength).toString()) as Record<string, unknown> & { blobs: BlobEntry[] };
  } catch {
    return damaged('the header is not JSON');
  }
  const base = 8 + headerLength;
  const blobs = new Map<string, Blob>();
  for (const e of header.blobs) {
    const width = e.type === 'f64' ? 8 : 4;
    const start = base + e.offset;
    if (start + e.length * width > file.length) damaged(`blob ${e.name} runs past the end of the file`);
    const copy = new Uint8Array(e.length * width);
    copy.set(file.subarray(start, start + copy.length));
    const blob = e.type === 'f32' ? new Float32Array(copy.buffer) : e.type === 'i32' ? new Int32Array(copy.buffer) : new Float64Array(copy.buffer);
    if (e.type !== 'i32' && firstNonFinite(blob as Float32Array | Float64Array) >= 0) damaged(`blob ${e.name} holds a non-finite value`);
    blobs.set(e.name, blob);
  }
  return { header, blobs, verified: false };
}

/** Only the JSON header of a checkpoint (cheap: the blobs are not read), or null if there is none or it is damaged. */
export function readCheckpointHeader(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const prefix = Buffer.alloc(PREFIX);
    const got = readSync(fd, prefix, 0, PREFIX, 0);
    if (got >= 8 && prefix.subarray(0, 4).equals(LEGACY_MAGIC)) {
      const json = Buffer.alloc(prefix.readUInt32LE(4));
      readSync(fd, json, 0, json.length, 8);
      return parseOrNull(json);
    }
    if (got < PREFIX || !prefix.subarray(0, 4).equals(MAGIC)) return null;
    const json = Buffer.alloc(prefix.readUInt32LE(4));
    if (readSync(fd, json, 0, json.length, PREFIX) < json.length) return null;
    if (crc32(json, crc32(prefix.subarray(0, 8))) !== prefix.readUInt32LE(8)) return null;
    return parseOrNull(json);
  } finally {
    closeSync(fd);
  }
}

function parseOrNull(json: Buffer): Record<string, unknown> | null {
  try {
    return JSON.parse(json.toString()) as Record<string, unknown>;
  } catch {
    return null;
  }
}
