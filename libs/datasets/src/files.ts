import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabeledImage } from '@freshet/core';

/**
 * The folder of the data sets: $FRESHET_DATA_DIR, or data/ in the repository (vendored with
 * their provenance, so a clone from anywhere runs the quick start and the tests).
 */
export function dataDir(): string {
  if (process.env.FRESHET_DATA_DIR) return resolve(process.env.FRESHET_DATA_DIR);
  const here = dirname(fileURLToPath(import.meta.url));
  // libs/datasets/{src,dist} -> repository root
  return resolve(here, '..', '..', '..', 'data');
}

/** A path under the data folder, or a clear error naming what is missing and how to fix it. */
export function dataFile(...parts: string[]): string {
  const path = join(dataDir(), ...parts);
  requireFile(path, 'data set');
  return path;
}

export function requireFile(path: string, what = 'file'): void {
  if (!existsSync(path)) {
    throw new Error(
      `${what} not found: ${path}. Data sets are read from data/ in the repository (see data/README.md); ` +
        'set FRESHET_DATA_DIR to a folder that holds corel5k-mulan/, mirflickr25k/ and word-similarity/ to use another copy.',
    );
  }
}

/** Parses `image_id<TAB>label label ...` lines. */
export function parseImageLabels(text: string, source = 'image-label file'): LabeledImage[] {
  const out: LabeledImage[] = [];
  // a byte-order mark (editors on Windows write one) is not part of the first image's id
  const lines = stripBom(text).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    if (tab <= 0) throw new Error(`${source}:${i + 1}: expected image_id<TAB>label label ..., got ${JSON.stringify(line.slice(0, 80))}`);
    const labels = line
      .slice(tab + 1)
      .split(/\s+/)
      .filter((l) => l !== '');
    out.push({ id: line.slice(0, tab), labels });
  }
  return out;
}

/** Text without a leading UTF-8 byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A text file's content (UTF-8, without a byte-order mark), or an error naming what is missing. */
export function readTextFile(path: string, what = 'file'): string {
  requireFile(path, what);
  return stripBom(readFileSync(path, 'utf8'));
}

export function readImageLabelFile(path: string): LabeledImage[] {
  return parseImageLabels(readTextFile(path, 'image-label file'), path);
}

export function formatImageLabels(images: readonly LabeledImage[]): string {
  return images.map((i) => `${i.id}\t${i.labels.join(' ')}`).join('\n') + '\n';
}
