import { describe, expect, it } from 'vitest';
import { normaliseImageLabel, normaliseLabel, type ImageLabelEvent } from '../streams/image-labels/normalise.js';
import { normaliseTextWindow, type TextWindowEvent } from '../streams/text-windows/normalise.js';
import type { RejectionCode } from './checks.js';
import { defaultIngestLimits as everyDefault } from './limits.js';

const defaultIngestLimits = everyDefault();

const image = (over: Partial<ImageLabelEvent>): ImageLabelEvent => ({
  imageId: 'img-1',
  labels: ['Sky'],
  eventTime: 1_700_000_000_000,
  weight: null,
  source: null,
  ...over,
});
const text = (over: Partial<TextWindowEvent>): TextWindowEvent => ({
  documentId: 'doc-1',
  sequence: 0,
  tokens: ['Call', 'me', 'Ishmael.'],
  eventTime: 1_700_000_000_000,
  ...over,
});

describe('label normalisation', () => {
  it('makes spellings from different producers equal', () => {
    expect(normaliseLabel('  Plant Life ')).toBe('plant_life');
    expect(normaliseLabel('ＳＫＹ')).toBe('sky'); // full-width, NFKC
    expect(normaliseLabel('blue\tsky\n')).toBe('blue_sky'); // tabs and newlines are whitespace
    expect(normaliseLabel('s\u200Bky\uFEFF')).toBe('sky'); // zero-width characters are invisible noise
    expect(normaliseLabel('plant\u00A0life')).toBe('plant_life'); // no-break space
    // full case folding: what toLowerCase leaves apart
    expect(normaliseLabel('Straße')).toBe(normaliseLabel('STRASSE'));
    expect(normaliseLabel('İstanbul')).toBe(normaliseLabel('istanbul'));
    expect(normaliseLabel('ΣΟΦΟΣ')).toBe(normaliseLabel('σοφος'));
  });
});

describe('image-label events', () => {
  it('normalises, deduplicates and keeps the rest', () => {
    const r = normaliseImageLabel(image({ imageId: ' 42 ', labels: ['Sky', 'sky ', '', 'Sea'], weight: 2 }));
    expect(r).toEqual({ ok: true, value: { imageId: '42', labels: ['sky', 'sea'], eventTime: 1_700_000_000_000, weight: 2, source: null }, adjustments: [] });
  });

  it('leaves out a label that is bad on its own and keeps the rest of the event, saying why', () => {
    const r = normaliseImageLabel(image({ labels: ['sky', 'bad\u0001', 'x'.repeat(65), 'not\uFFFDtext', 'blue\tsea'] }));
    expect(r).toMatchObject({ ok: true, value: { labels: ['sky', 'blue_sea'] } });
    if (r.ok) expect(r.adjustments.map((a) => a.code)).toEqual(['CONTROL_CHARACTER', 'LABEL_TOO_LONG', 'INVALID_UTF8']);
  });

  it('rejects an event time beyond the clock skew, or clamps it to now when told to', () => {
    const now = 1_700_000_000_000;
    const year3000 = Date.UTC(3000, 0, 1);
    const rejected = normaliseImageLabel(image({ eventTime: year3000 }), defaultIngestLimits, now);
    expect(rejected.ok).toBe(false);
    if (!rejected.ok) expect(rejected.rejection.code).toBe('EVENT_TIME_IN_FUTURE');
    const clamped = normaliseImageLabel(image({ eventTime: year3000 }), { ...defaultIngestLimits, futureEventTime: 'clamp' }, now);
    expect(clamped).toMatchObject({ ok: true, value: { eventTime: now }, adjustments: [{ part: 'event_time', code: 'EVENT_TIME_IN_FUTURE' }] });
    // within the skew: kept as sent
    expect(normaliseImageLabel(image({ eventTime: now + 60_000 }), defaultIngestLimits, now)).toMatchObject({ ok: true, value: { eventTime: now + 60_000 } });
  });

  const cases: Array<[string, Partial<ImageLabelEvent>, RejectionCode]> = [
    ['empty id', { imageId: '  ' }, 'EMPTY_ID'],
    ['huge id', { imageId: 'x'.repeat(300) }, 'ID_TOO_LONG'],
    ['invalid UTF-8 in id', { imageId: 'a\uFFFDb' }, 'INVALID_UTF8'],
    ['a tab inside the id', { imageId: 'a\tb' }, 'CONTROL_CHARACTER'],
    ['every label bad', { labels: ['bad\u0001', '\uFFFD'] }, 'EMPTY_LABELS'],
    ['no labels', { labels: [] }, 'EMPTY_LABELS'],
    ['only blank labels', { labels: [' ', ''] }, 'EMPTY_LABELS'],
    ['huge label set', { labels: Array.from({ length: 65 }, (_, i) => `l${i}`) }, 'TOO_MANY_LABELS'],
    ['only an over-long label', { labels: ['y'.repeat(65)] }, 'EMPTY_LABELS'],
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
    expect(r).toEqual({
      ok: true,
      value: { documentId: 'doc-1', sequence: 0, tokens: ["whale's", 'back', '1851'], eventTime: 1_700_000_000_000 },
      adjustments: [],
    });
  });

  it('reads raw text: tabs, newlines and Unicode spaces separate words, zero-width characters vanish', () => {
    const r = normaliseTextWindow(text({ tokens: ['Call\tme\nIshmael.', 'Some\u00A0years\u2003ago', 'wh\u200Bale'] }));
    expect(r).toMatchObject({ ok: true, value: { tokens: ['call', 'me', 'ishmael', 'some', 'years', 'ago', 'whale'] }, adjustments: [] });
  });

  it('leaves out a token that is not text and keeps the window', () => {
    const r = normaliseTextWindow(text({ tokens: ['call', 'me', '\uFFFD\uFFFD', 'ishmael'] }));
    expect(r).toMatchObject({ ok: true, value: { tokens: ['call', 'me', 'ishmael'] }, adjustments: [{ part: 'token', code: 'INVALID_UTF8' }] });
  });

  const cases: Array<[string, Partial<TextWindowEvent>, RejectionCode]> = [
    ['empty document id', { documentId: '' }, 'EMPTY_ID'],
    ['no tokens', { tokens: [] }, 'EMPTY_TOKENS'],
    ['only punctuation', { tokens: ['...', '!!'] }, 'EMPTY_TOKENS'],
    ['oversized window', { tokens: Array.from({ length: 2001 }, () => 'w') }, 'TOO_MANY_TOKENS'],
    ['nothing but invalid UTF-8', { tokens: ['\uFFFD'] }, 'EMPTY_TOKENS'],
    ['an event time in the year 3000', { eventTime: Date.UTC(3000, 0, 1) }, 'EVENT_TIME_IN_FUTURE'],
    ['negative sequence', { sequence: -1 }, 'BAD_NUMBER'],
    ['infinite event time', { eventTime: Number.POSITIVE_INFINITY }, 'BAD_NUMBER'],
  ];
  it.each(cases)('rejects %s', (_name, over, code) => {
    const r = normaliseTextWindow(text(over));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.code).toBe(code);
  });
});
