import type { ImageLabelEvent, TextWindowEvent } from '@freshet/avro';
import { tokenize } from '@freshet/datasets';

/** Limits on every input size and on event times; each has a setting on the ingest service. */
export interface IngestLimits {
  maxRecordBytes: number;
  maxIdLength: number;
  maxLabels: number;
  maxLabelLength: number;
  maxTokens: number;
  maxTokenLength: number;
  /** how far in the future (producer clock skew) an event time may be */
  maxFutureSkewMs: number;
  /** an event time further in the future: dead-lettered, or clamped to now (and counted) */
  futureEventTime: 'reject' | 'clamp';
}

export const defaultIngestLimits: IngestLimits = {
  maxRecordBytes: 256 * 1024,
  maxIdLength: 256,
  maxLabels: 64,
  maxLabelLength: 64,
  maxTokens: 2_000,
  maxTokenLength: 64,
  maxFutureSkewMs: 10 * 60_000,
  futureEventTime: 'reject',
};

/** Why a record was rejected: a stable code (dead-letter `errorCode`, metric label) and a sentence. */
export interface Rejection {
  code: RejectionCode;
  message: string;
}

/** Every reason a record (or a part of one) can be rejected for (dead-letter `errorCode`, metric label). */
export const rejectionCodes = [
  'RECORD_TOO_LARGE',
  'EMPTY_ID',
  'ID_TOO_LONG',
  'INVALID_UTF8',
  'CONTROL_CHARACTER',
  'EMPTY_LABELS',
  'TOO_MANY_LABELS',
  'LABEL_TOO_LONG',
  'EMPTY_TOKENS',
  'TOO_MANY_TOKENS',
  'BAD_NUMBER',
  'EVENT_TIME_IN_FUTURE',
  'EMPTY_RECORD',
  'TRUNCATED',
  'BAD_MAGIC_BYTE',
  'UNKNOWN_SCHEMA_ID',
  'INCOMPATIBLE_SCHEMA',
  'WRONG_RECORD_TYPE',
  'MALFORMED_AVRO',
] as const;

export type RejectionCode = (typeof rejectionCodes)[number];

/** A part of an accepted record that was left out (a bad label or token) or changed (a clamped time), and why. */
export interface Adjustment {
  part: 'label' | 'token' | 'event_time';
  code: RejectionCode;
}

export type Normalised<T> = { ok: true; value: T; adjustments: Adjustment[] } | { ok: false; rejection: Rejection };

const reject = <T>(code: RejectionCode, message: string): Normalised<T> => ({ ok: false, rejection: { code, message } });

/** Zero-width characters (space, joiners, word joiner, BOM) and soft hyphens: invisible, and they split identical words apart. */
const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
/** Control characters left after whitespace (tabs, newlines, ...) became spaces: bytes that are not text. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Raw text as producers send it: NFKC, zero-width characters removed, any run of whitespace
 * (tabs, newlines, no-break and other Unicode spaces) one space, trimmed.
 */
export function cleanText(s: string): string {
  return s.normalize('NFKC').replace(ZERO_WIDTH, '').replace(/\s+/gu, ' ').trim();
}

/**
 * Avro strings are decoded as UTF-8 with replacement, so invalid bytes arrive as U+FFFD; a
 * replacement character means the producer sent bytes that are not text, a control character
 * (after whitespace was normalised) likewise.
 */
function textProblem(s: string): RejectionCode | null {
  if (s.includes('\uFFFD')) return 'INVALID_UTF8';
  if (CONTROL.test(s)) return 'CONTROL_CHARACTER';
  return null;
}

/** Labels compare equal across producers: cleaned as text, lower case, inner spaces as '_'. */
export function normaliseLabel(label: string): string {
  return cleanText(label).toLowerCase().replace(/ /g, '_');
}

function checkId(id: string, limits: IngestLimits, what: string): Rejection | null {
  const trimmed = id.trim();
  if (trimmed === '') return { code: 'EMPTY_ID', message: `${what} is empty` };
  if (trimmed.length > limits.maxIdLength) return { code: 'ID_TOO_LONG', message: `${what} has ${trimmed.length} characters, the limit is ${limits.maxIdLength}` };
  const problem = textProblem(trimmed);
  if (problem === 'INVALID_UTF8') return { code: problem, message: `${what} holds invalid UTF-8` };
  if (problem === 'CONTROL_CHARACTER') return { code: problem, message: `${what} holds a control character (tab, newline or other)` };
  return null;
}

/**
 * Event times must be finite, non-negative milliseconds, and not in the future beyond the
 * producers' clock skew: one event stamped in the year 3000 would pin the event-time watermark
 * and every freshness figure after it.
 */
function checkTime(t: number, limits: IngestLimits, now: number, adjustments: Adjustment[]): { time: number } | Rejection {
  if (!Number.isFinite(t) || t < 0) return { code: 'BAD_NUMBER', message: `eventTime must be a finite, non-negative number of milliseconds, got ${t}` };
  if (t > now + limits.maxFutureSkewMs) {
    if (limits.futureEventTime === 'clamp') {
      adjustments.push({ part: 'event_time', code: 'EVENT_TIME_IN_FUTURE' });
      return { time: now };
    }
    return { code: 'EVENT_TIME_IN_FUTURE', message: `eventTime ${new Date(t).toISOString()} is more than ${limits.maxFutureSkewMs} ms after now (${new Date(now).toISOString()})` };
  }
  return { time: t };
}

export function normaliseImageLabel(e: ImageLabelEvent, limits: IngestLimits = defaultIngestLimits, now = Date.now()): Normalised<ImageLabelEvent> {
  const adjustments: Adjustment[] = [];
  const idProblem = checkId(e.imageId, limits, 'imageId');
  if (idProblem) return { ok: false, rejection: idProblem };
  const time = checkTime(e.eventTime, limits, now, adjustments);
  if ('code' in time) return { ok: false, rejection: time };
  if (e.weight !== null && !(Number.isFinite(e.weight) && e.weight > 0)) return reject('BAD_NUMBER', `weight must be a finite number > 0, got ${e.weight}`);
  if (e.labels.length > limits.maxLabels) return reject('TOO_MANY_LABELS', `${e.labels.length} labels, the limit is ${limits.maxLabels}`);
  const labels: string[] = [];
  for (const raw of e.labels) {
    const label = normaliseLabel(raw);
    if (label === '') continue;
    // a label that is bad on its own is left out; the rest of the event is kept
    const problem = textProblem(label) ?? (label.length > limits.maxLabelLength ? 'LABEL_TOO_LONG' : null);
    if (problem !== null) {
      adjustments.push({ part: 'label', code: problem });
      continue;
    }
    if (!labels.includes(label)) labels.push(label);
  }
  if (labels.length === 0) {
    const why = adjustments.filter((a) => a.part === 'label').map((a) => a.code);
    return reject('EMPTY_LABELS', why.length > 0 ? `no labels left: every label was left out (${[...new Set(why)].join(', ')})` : 'no labels left after normalisation');
  }
  return { ok: true, value: { imageId: e.imageId.trim(), labels, eventTime: time.time, weight: e.weight, source: e.source }, adjustments };
}

export function normaliseTextWindow(e: TextWindowEvent, limits: IngestLimits = defaultIngestLimits, now = Date.now()): Normalised<TextWindowEvent> {
  const adjustments: Adjustment[] = [];
  const idProblem = checkId(e.documentId, limits, 'documentId');
  if (idProblem) return { ok: false, rejection: idProblem };
  const time = checkTime(e.eventTime, limits, now, adjustments);
  if ('code' in time) return { ok: false, rejection: time };
  if (!Number.isFinite(e.sequence) || e.sequence < 0) return reject('BAD_NUMBER', `sequence must be a non-negative integer, got ${e.sequence}`);
  if (e.tokens.length > limits.maxTokens) return reject('TOO_MANY_TOKENS', `${e.tokens.length} tokens, the limit is ${limits.maxTokens}`);
  const tokens: string[] = [];
  for (const raw of e.tokens) {
    // raw text: tabs, newlines and other whitespace separate words like spaces do
    const text = cleanText(raw);
    const problem = textProblem(text);
    if (problem !== null) {
      adjustments.push({ part: 'token', code: problem });
      continue;
    }
    for (const t of tokenize(text)) {
      // over-long "words" are noise (URLs, hashes): left out, not fatal
      if (t.length <= limits.maxTokenLength) tokens.push(t);
    }
  }
  if (tokens.length > limits.maxTokens) return reject('TOO_MANY_TOKENS', `${tokens.length} tokens after tokenisation, the limit is ${limits.maxTokens}`);
  if (tokens.length === 0) return reject('EMPTY_TOKENS', adjustments.length > 0 ? 'no tokens left: every token was left out' : 'no tokens left after tokenisation');
  return { ok: true, value: { documentId: e.documentId.trim(), sequence: e.sequence, tokens, eventTime: time.time }, adjustments };
}
