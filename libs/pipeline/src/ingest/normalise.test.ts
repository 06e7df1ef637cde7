import { describe, expect, it } from 'vitest';
import type { ImageLabelEvent, TextWindowEvent } from '@freshet/avro';
import { normaliseImageLabel, normaliseLabel, normaliseTextWindow, type RejectionCode } from './normalise.js';

const image = (over: Partial<ImageLabelEvent>): ImageLabelEvent => ({ imageId: 'img-1', labels: ['Sky'], eventTime: 1_700_000_000_000, weight: null, source: null, ...over });
const text = (over: Partial<TextWindowEvent>): TextWindowEvent => ({ documentId: 'doc-1', sequence: 0, tokens: ['Call', 'me', 'Ishmael.'], eventTime: 1_700_000_000_000, ...over });

describe('label normalisation', () => {
  it('makes spellings from different producers equal', () => {
    expect(normaliseLabel('  Plant Life ')).toBe('plant_life');
    expect(normaliseLabel('ＳＫＹ')).toBe('sky'); // full-width, NFKC
  });
});

describe('image-label events', () => {
  it('normalises, deduplicates and keeps the rest', () => {
    const r = normaliseImageLabel(image({ imageId: ' 42 ', labels: ['Sky', 'sky ', '', 'Sea'], weight: 2 }));
    expect(r).toEqual({ ok: true, value: { imageId: '42', labels: ['sky', 'sea'], eventTime: 1_700_000_000_000, weight: 2, source: null } });
  });

  const cases: Array<[string, Partial<ImageLabelEvent>, RejectionCode]> = [
    ['empty id', { imageId: '  ' }, 'EMPTY_ID'],
    ['huge id', { imageId: 'x'.repeat(300) }, 'ID_TOO_LONG'],
    ['invalid UTF-8 in id', { imageId: 'a\uFFFDb' }, 'INVALID_UTF8'],
    ['control character in a label', { labels: ['ok', 'bad\u0001'] }, 'INVALID_UTF8'],
    ['no labels', { labels: [] }, 'EMPTY_LABELS'],
    ['only blank labels', { labels: [' ', ''] }, 'EMPTY_LABELS'],
    ['huge label set', { labels: Array.from({ length: 65 }, (_, i) => `l${i}`) }, 'TOO_MANY_LABELS'],
    ['over-long label', { labels: ['y'.repeat(65)] }, 'LABEL_TOO_LONG'],
    ['NaN weight', { weight: Number.NaN }, 'BAD_NUMBER'],
    ['infinite weight', { weight: Number.POSITIVE_INFINITY }, 'BAD_NUMBER'],
    ['negative weight', { weight: -1 }, 'BAD_NUMBER'],
    ['NaN event time', { eventTime: Number.NaN }, 'BAD_NUMBER'],
  ];
  it.each(cases)('rejects %s', (_name, over, code) => {
    const r = normaliseImageLabel(image(over));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.code).toBe(code);
  });
});

describe('text-window events', () => {
  it('re-tokenises and lower-cases', () => {
    const r = normaliseTextWindow(text({ tokens: ["Whale's", 'BACK,', '1851!'] }));
    expect(r).toEqual({ ok: true, value: { documentId: 'doc-1', sequence: 0, tokens: ["whale's", 'back', '1851'], eventTime: 1_700_000_000_000 } });
  });

  const cases: Array<[string, Partial<TextWindowEvent>, RejectionCode]> = [
    ['empty document id', { documentId: '' }, 'EMPTY_ID'],
    ['no tokens', { tokens: [] }, 'EMPTY_TOKENS'],
    ['only punctuation', { tokens: ['...', '!!'] }, 'EMPTY_TOKENS'],
    ['oversized window', { tokens: Array.from({ length: 2001 }, () => 'w') }, 'TOO_MANY_TOKENS'],
    ['invalid UTF-8 in a token', { tokens: ['ok', '\uFFFD'] }, 'INVALID_UTF8'],
    ['negative sequence', { sequence: -1 }, 'BAD_NUMBER'],
    ['infinite event time', { eventTime: Number.POSITIVE_INFINITY }, 'BAD_NUMBER'],
  ];
  it.each(cases)('rejects %s', (_name, over, code) => {
    const r = normaliseTextWindow(text(over));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.code).toBe(code);
  });
});
