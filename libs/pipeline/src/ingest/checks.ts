import { SettingsTable, setting, type SettingValue, type SettingsOf } from '@freshet/runtime';

/**
 * What ingest checks of every record whatever its stream (size, ids, event times), and the
 * vocabulary of outcomes every stream's normaliser speaks: rejection codes, adjustments, and the
 * `Normalised` result. A stream's own checks (labels, tokens) live in its folder.
 */
export const commonIngestLimits = new SettingsTable('ingest', {
  maxRecordBytes: setting.number({ default: 256 * 1024, option: 'max-record-bytes', integer: true, min: 1, help: 'larger records are dead-lettered' }),
  maxIdLength: setting.number({ default: 256, option: 'max-id-length', integer: true, min: 1, help: 'longest image or document id' }),
  maxHeaders: setting.number({
    default: 100,
    option: 'max-headers',
    integer: true,
    min: 1,
    help: 'most Kafka headers on a raw record (more are dead-lettered as TOO_MANY_HEADERS)',
  }),
  maxFutureSkewMs: setting.number({
    default: 10 * 60_000,
    option: 'max-event-time-skew-ms',
    integer: true,
    min: 0,
    help: 'how far in the future an event time may be (producer clock skew)',
  }),
  futureEventTime: setting.choice(['reject', 'clamp'], {
    default: 'reject',
    option: 'future-event-time',
    help: 'an event time beyond the skew: dead-lettered (EVENT_TIME_IN_FUTURE), or clamped to now and counted',
  }),
});

export type CommonIngestLimits = SettingsOf<(typeof commonIngestLimits)['specs']>;

/** Every limit ingest applies: the common ones and each stream's (its own table picks them out). */
export type IngestLimits = CommonIngestLimits & Readonly<Record<string, SettingValue>>;

/** Why a record was rejected: a stable code (dead-letter `errorCode`, metric label) and a sentence. */
export interface Rejection {
  code: RejectionCode;
  message: string;
}

/** Every reason a record (or a part of one) can be rejected for (dead-letter `errorCode`, metric label). */
export const rejectionCodes = [
  'RECORD_TOO_LARGE',
  'TOO_MANY_HEADERS',
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

export const reject = <T>(code: RejectionCode, message: string): Normalised<T> => ({ ok: false, rejection: { code, message } });

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
 * Case-folded text: lower case with Unicode's full folds that toLowerCase leaves out (ß is ss, a
 * final sigma is σ, the capital dotted İ is i: İstanbul and istanbul, Straße and strasse are one
 * label), then composed again (NFC).
 */
export function foldCase(s: string): string {
  return s
    .replace(/\u0130/g, 'i')
    .toLowerCase()
    .replace(/\u00DF|\u1E9E/g, 'ss')
    .replace(/\u03C2/g, '\u03C3')
    .normalize('NFC');
}

/**
 * Avro strings are decoded as UTF-8 with replacement, so invalid bytes arrive as U+FFFD; a
 * replacement character means the producer sent bytes that are not text, a control character
 * (after whitespace was normalised) likewise.
 */
export function textProblem(s: string): RejectionCode | null {
  if (s.includes('\uFFFD')) return 'INVALID_UTF8';
  if (CONTROL.test(s)) return 'CONTROL_CHARACTER';
  return null;
}

/** An id (image, document) that is usable: not empty, not too long, text without control characters. */
export function checkId(id: string, limits: CommonIngestLimits, what: string): Rejection | null {
  const trimmed = id.trim();
  if (trimmed === '') return { code: 'EMPTY_ID', message: `${what} is empty` };
  if (trimmed.length > limits.maxIdLength)
    return { code: 'ID_TOO_LONG', message: `${what} has ${trimmed.length} characters, the limit is ${limits.maxIdLength}` };
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
export function checkTime(t: number, limits: CommonIngestLimits, now: number, adjustments: Adjustment[]): { time: number } | Rejection {
  if (!Number.isFinite(t) || t < 0) return { code: 'BAD_NUMBER', message: `eventTime must be a finite, non-negative number of milliseconds, got ${t}` };
  if (t > now + limits.maxFutureSkewMs) {
    if (limits.futureEventTime === 'clamp') {
      adjustments.push({ part: 'event_time', code: 'EVENT_TIME_IN_FUTURE' });
      return { time: now };
    }
    return {
      code: 'EVENT_TIME_IN_FUTURE',
      message: `eventTime ${new Date(t).toISOString()} is more than ${limits.maxFutureSkewMs} ms after now (${new Date(now).toISOString()})`,
    };
  }
  return { time: t };
}
