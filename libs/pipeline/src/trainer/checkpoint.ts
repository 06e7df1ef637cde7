import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A checkpoint file: the model and the consumer offsets it reflects, written together so that a
 * restart resumes exactly where the saved model left off.
 *
 *   bytes 0-3  "FRCK"            magic
 *   bytes 4-7  uint32 LE          header length H
 *   bytes 8..  H bytes of JSON    header: metadata and the byte layout of every blob
 *   then       blobs              raw little-endian Float32/Int32/Float64 arrays, 8-byte aligned
 *
 * Written to a temporary file, fsynced, then renamed over the old one: a crash mid-write leaves
 * the previous checkpoint intact.
 */
export type Blob = Float32Array | Int32Array | Float64Array;

interface BlobEntry {
  name: string;
  type: 'f32' | 'i32' | 'f64';
  offset: number;
  length: number;
}

const MAGIC = Buffer.from('FRCK');

/**
 * Writes the checkpoint with asynchronous I/O (the trainer keeps training meanwhile); resolves to
 * its size in bytes, or -1 when `mayReplace` (asked after the data is durable, just before the
 * rename) refuses: then the old file stays and the new one is removed.
 */
export async function writeCheckpoint(
  path: string,
  header: Record<string, unknown>,
  blobs: Record<string, Blob>,
  mayReplace: () => boolean = () => true,
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const entries: BlobEntry[] = [];
  let offset = 0;
  for (const [name, blob] of Object.entries(blobs)) {
    const type = blob instanceof Float32Array ? 'f32' : blob instanceof Int32Array ? 'i32' : 'f64';
    entries.push({ name, type, offset, length: blob.length });
    offset += Math.ceil(blob.byteLength / 8) * 8;
  }
  const json = Buffer.from(JSON.stringify({ ...header, blobs: entries }));
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  const prefix = Buffer.alloc(8);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(json.length + pad, 4);
  // unique per writer: two instances on a shared volume may have the same pid
  const tmp = `${path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  const file = await open(tmp, 'w');
  let written = 0;
  try {
    written += (await file.write(prefix)).bytesWritten;
    written += (await file.write(Buffer.concat([json, Buffer.alloc(pad, 0x20)]))).bytesWritten;
    for (const blob of Object.values(blobs)) {
      written += (await file.write(new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength))).bytesWritten;
      const extra = Math.ceil(blob.byteLength / 8) * 8 - blob.byteLength;
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
  await rename(tmp, path);
  return written;
}

export function readCheckpoint(path: string): { header: Record<string, unknown>; blobs: Map<string, Blob> } | null {
  if (!existsSync(path)) return null;
  const file = readFileSync(path);
  if (file.length < 8 || !file.subarray(0, 4).equals(MAGIC)) throw new Error(`${path} is not a freshet checkpoint`);
  const headerLength = file.readUInt32LE(4);
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString()) as Record<string, unknown> & { blobs: BlobEntry[] };
  const base = 8 + headerLength;
  const blobs = new Map<string, Blob>();
  for (const e of header.blobs) {
    const start = base + e.offset;
    // copy out: the views must not keep the whole file alive, and offsets must be aligned
    const bytes = file.subarray(start, start + e.length * (e.type === 'f64' ? 8 : 4));
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    blobs.set(e.name, e.type === 'f32' ? new Float32Array(copy.buffer) : e.type === 'i32' ? new Int32Array(copy.buffer) : new Float64Array(copy.buffer));
  }
  return { header, blobs };
}

/** Only the JSON header of a checkpoint (cheap: the blobs are not read), or null if there is none. */
export function readCheckpointHeader(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) < 8 || !prefix.subarray(0, 4).equals(MAGIC)) throw new Error(`${path} is not a freshet checkpoint`);
    const json = Buffer.alloc(prefix.readUInt32LE(4));
    readSync(fd, json, 0, json.length, 8);
    return JSON.parse(json.toString()) as Record<string, unknown>;
  } finally {
    closeSync(fd);
  }
}
