import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'bench', 'results');

/**
 * Every reported number in a JSON document: raw series (learning curves, tuning trials, samples
 * over time) are left out, so a README figure must match a result, not some point of a curve.
 */
const RAW_SERIES = /curve|tuning|samples|trials|rounds$/i;
function numbersIn(value: unknown, out: number[]): number[] {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const v of value) numbersIn(v, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (!RAW_SERIES.test(k)) numbersIn(v, out);
  return out;
}

/**
 * The figures of the README's measured sections (between `<!-- figures -->` and
 * `<!-- /figures -->`): every number written with decimals or thousands separators.
 */
function readmeFigures(): string[] {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const sections = [...text.matchAll(/<!-- figures -->([\s\S]*?)<!-- \/figures -->/g)].map((m) => m[1]);
  return sections.flatMap((s) => [...s.matchAll(/(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\w.,])\d+\.\d+(?![\d])/g)].map((m) => m[0]));
}

describe('README figures', () => {
  it('every measured figure in the README is in a committed result file (as written or rounded)', () => {
    // only the result files the measured sections name
    const text = readFileSync(join(root, 'README.md'), 'utf8');
    const files = readdirSync(resultsDir).filter((f) => f.endsWith('.json') && text.includes(f));
    expect(files.length).toBeGreaterThan(0);
    const values = files.flatMap((f) => numbersIn(JSON.parse(readFileSync(join(resultsDir, f), 'utf8')), []));
    // a value written with d decimals matches any result that rounds to it; thousands separators dropped
    const known = new Set<string>();
    for (const v of values) {
      for (let d = 0; d <= 4; d++) known.add(v.toFixed(d));
      // ratios and shares also appear as percentages
      for (let d = 0; d <= 1; d++) known.add((v * 100).toFixed(d));
    }
    const figures = readmeFigures();
    expect(figures.length).toBeGreaterThan(30);
    const missing = figures.filter((f) => !known.has(f.replace(/,/g, '')));
    expect(missing).toEqual([]);
  });
});
