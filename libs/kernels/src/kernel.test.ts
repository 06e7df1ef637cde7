import { describe, expect, it } from 'vitest';
import { Rng, SkipGramModel, defaultSkipGramConfig, nearest, rowNorms } from '@freshet/core';
import { encodeCorpus, loadCorpusSentences } from '@freshet/datasets';
import { trainSkipGramWasm } from './sgns/offline.js';

function setup(sampler: 'popularity' | 'adaptive'): { model: SkipGramModel; corpus: ReturnType<typeof encodeCorpus> } {
  const corpus = encodeCorpus(loadCorpusSentences(['moby-dick']), 5);
  const model = new SkipGramModel({ ...defaultSkipGramConfig, dim: 48, outputInit: sampler === 'adaptive' ? 'noise' : 'zero' }, new Rng(1));
  for (const n of corpus.vocab.allNames()) model.vocab.increment(model.wordId(n), corpus.vocab.count(corpus.vocab.idOf(n)));
  return { model, corpus };
}

function neighboursOf(model: SkipGramModel, word: string): string[] {
  const id = model.vocab.idOf(word);
  return nearest(model.input.row(id), model.input, 10, rowNorms(model.input), (r) => r === id).map((n) => model.vocab.nameOf(n.id));
}

const base = { epochs: 2, lr: 0.025, minLr: 0.025e-4, seed: 3, alpha: 0.75, lambdaFraction: 0.01, mixShare: 0.1, refreshEvery: 0 };

describe('WebAssembly skip-gram kernel', () => {
  it('learns with popularity negatives and is reproducible on one thread', async () => {
    const a = setup('popularity');
    const ra = await trainSkipGramWasm(a.model, a.corpus, { ...base, threads: 1, sampler: 'popularity' });
    const b = setup('popularity');
    await trainSkipGramWasm(b.model, b.corpus, { ...base, threads: 1, sampler: 'popularity' });
    expect(ra.pairs).toBeGreaterThan(500_000);
    // a trained model's per-pair loss (1 + 5 terms) is far below the untrained 6 ln 2 = 4.16
    expect(ra.loss).toBeLessThan(3.5);
    expect(neighboursOf(a.model, 'whale')).toContain('sperm');
    expect(Array.from(b.model.input.row(10))).toEqual(Array.from(a.model.input.row(10)));
  });

  it('learns with adaptive negatives, refreshing its rank tables on cadence', async () => {
    const { model, corpus } = setup('adaptive');
    const r = await trainSkipGramWasm(model, corpus, { ...base, threads: 1, sampler: 'adaptive' });
    const v = model.vocab.size;
    // one refresh per completed interval of ceil(|V| ln |V|) draws; the interval the run ends in
    // has no refresh after it (the next would come at the next train call)
    expect(r.refreshes).toBeGreaterThanOrEqual(Math.floor(r.draws / Math.ceil(v * Math.log(v))) - 1);
    expect(r.mixed / r.draws).toBeGreaterThan(0.05);
    expect(r.mixed / r.draws).toBeLessThan(0.2);
    expect(r.loss).toBeLessThan(4);
    expect(neighboursOf(model, 'whale')).toContain('sperm');
  });

  it('trains on two Hogwild threads over one shared memory', async () => {
    const { model, corpus } = setup('popularity');
    const r = await trainSkipGramWasm(model, corpus, { ...base, threads: 2, sampler: 'popularity' });
    expect(r.pairs).toBeGreaterThan(500_000);
    expect(r.loss).toBeLessThan(3.5);
    expect(neighboursOf(model, 'whale')).toContain('sperm');
  });
});
