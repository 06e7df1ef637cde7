import { describe, expect, it } from 'vitest';
import { Vocabulary } from './vocabulary.js';

describe('Vocabulary', () => {
  it('gives stable ids, counts, and refuses names past the cap', () => {
    const v = new Vocabulary(3);
    expect(v.observe('sky')).toBe(0);
    expect(v.observe('sea')).toBe(1);
    expect(v.observe('sky')).toBe(0);
    expect(v.observe('sun')).toBe(2);
    expect(v.observe('tree')).toBe(-1);
    expect(v.refusedCount).toBe(1);
    expect(v.size).toBe(3);
    expect(Array.from(v.counts)).toEqual([2, 1, 1]);
    expect(v.nameOf(1)).toBe('sea');
    expect(() => v.nameOf(5)).toThrow(/no id 5/);
  });

  it('grows its counts past the initial allocation', () => {
    const v = new Vocabulary();
    for (let i = 0; i < 1000; i++) v.observe(`w${i}`, i);
    expect(v.count(999)).toBe(999);
    expect(v.counts.length).toBe(1000);
  });
});
