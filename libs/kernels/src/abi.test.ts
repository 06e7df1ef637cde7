import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultImageLabelConfig } from '@freshet/core';
import { ABI_BLOCKS, RANK_TABLE_CONTROL, SGNS_CONFIG, SGNS_CONTROL, SGNS_SAMPLERS, VSE_CONFIG, VSE_CONTROL, VSE_SAMPLERS, assemblyAbi } from './abi.js';
import type { Block } from './blocks.js';
import { SgnsKernel } from './sgns/kernel.js';
import { VseKernel } from './vse/kernel.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A distinct value per field that survives its type (f32 values exactly representable). */
function distinctValues<F extends string>(b: Block<F>, skip: readonly F[]): Record<F, number> {
  const out = {} as Record<F, number>;
  let k = 1;
  for (const [name, f] of Object.entries(b.fields) as Array<[F, { type: string }]>) {
    if (skip.includes(name)) continue;
    out[name] = f.type === 'f32' || f.type === 'f64' ? k + 0.25 : f.type === 'u32' ? 0x8000_0000 + 64 * k : 1000 + k;
    k++;
  }
  return out;
}

const vseKernel = (): VseKernel =>
  VseKernel.create(
    {
      config: { ...defaultImageLabelConfig, dim: 8, imageCap: 4, labelCap: 4 },
      pairCapacity: 4,
      sampler: { kind: 'uniform', candidates: 1, maxSampled: 10, lambdaFraction: 0.3, mixShare: 0, maxRetries: 10 },
    },
    1,
  );

const sgnsKernel = (): SgnsKernel =>
  SgnsKernel.create(
    {
      dim: 8,
      vocabCap: 4,
      window: 2,
      negatives: 2,
      sample: 0,
      alpha: 0.75,
      sampler: 'popularity',
      lambdaFraction: 0.1,
      mixShare: 0,
      refreshEvery: 0,
      slots: 1,
      slotTokens: 4,
      slotSentences: 1,
      maxSentence: 4,
      threads: 1,
    },
    1,
  );

describe('the TypeScript/WebAssembly boundary, declared once (src/abi.ts)', () => {
  it('generated assembly/abi.ts is the one the declarations make', () => {
    expect(readFileSync(join(here, '..', 'assembly', 'abi.ts'), 'utf8')).toBe(assemblyAbi());
  });

  it('lays out every field aligned to its size, inside its block, without overlaps', () => {
    for (const b of ABI_BLOCKS) {
      const taken: Array<[number, number]> = [];
      for (const f of Object.values(b.fields)) {
        const size = f.type === 'f64' ? 8 : 4;
        expect(f.offset % size, `${b.name}: ${f.doc}`).toBe(0);
        expect(f.offset + size).toBeLessThanOrEqual(b.bytes);
        for (const [from, to] of taken) expect(f.offset >= to || f.offset + size <= from).toBe(true);
        taken.push([f.offset, f.offset + size]);
      }
    }
  });

  it('both control blocks start with the rank-table fields at the same offsets (tables.ts serves either kernel)', () => {
    for (const [name, f] of Object.entries(RANK_TABLE_CONTROL.fields)) {
      expect(VSE_CONTROL.fields[name as keyof typeof VSE_CONTROL.fields]).toEqual(f);
      expect(SGNS_CONTROL.fields[name as keyof typeof SGNS_CONTROL.fields]).toEqual(f);
    }
  });

  it('the image-label kernel reads every configuration field TypeScript writes, by name', () => {
    const kernel = vseKernel();
    const values = distinctValues(VSE_CONFIG, []);
    // the sampler code must be one the kernel knows
    values.sampler = VSE_SAMPLERS.code('warp');
    // a flag is read as a flag
    values.labelBias = 1;
    kernel.config.write(values);
    kernel.reconfigure();
    expect(kernel.echoConfig()).toEqual(values);
  });

  it('the image-label kernel reads the control fields TypeScript writes, by name', () => {
    const kernel = vseKernel();
    const reads = ['labels', 'pairs', 'tables', 'sigma', 'tableSize', 'tableStride', 'lambda'] as const;
    const values = distinctValues(VSE_CONTROL, []);
    kernel.control.write(values);
    const echoed = kernel.echoControl();
    for (const name of reads) expect(echoed[name], name).toBe(values[name]);
  });

  it('the skip-gram kernel reads every configuration field TypeScript writes, by name', () => {
    const kernel = sgnsKernel();
    const values = distinctValues(SGNS_CONFIG, []);
    values.sampler = SGNS_SAMPLERS.code('adaptive');
    values.subsample = 1;
    values.headOnly = 1;
    kernel.config.write(values);
    kernel.reconfigure();
    expect(kernel.echoConfig()).toEqual(values);
  });

  it('the skip-gram kernel reads the control fields TypeScript writes, by name', () => {
    const kernel = sgnsKernel();
    const reads = ['vocab', 'aliasSize', 'alias', 'cap', 'tables', 'sigma', 'tableSize', 'tableStride', 'lambda', 'keep', 'keepSize'] as const;
    const values = distinctValues(SGNS_CONTROL, []);
    // the kernel derives the alias half of the table from alias + 4 * cap: keep it inside 32 bits
    values.alias = 4096;
    values.cap = 1000;
    kernel.control.write(values);
    const echoed = kernel.echoControl();
    for (const name of reads) expect(echoed[name], name).toBe(values[name]);
  });

  it('counters come back as a record with every field of the counter block', () => {
    const kernel = vseKernel();
    kernel.setSizes(4, 1);
    expect(Object.keys(kernel.counters())).toEqual(
      expect.arrayContaining(['steps', 'updates', 'lossSum', 'draws', 'rejections', 'fallbacks', 'mixed', 'candidatesScored', 'noViolator']),
    );
    expect(Object.keys(sgnsKernel().counters())).toEqual(expect.arrayContaining(['pairs', 'draws', 'fallbacks', 'mixed', 'lossSum', 'loss']));
  });
});
