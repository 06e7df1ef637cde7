import type { ImageLabelEvent, TextWindowEvent } from '@freshet/avro';
import { tokenize } from '@freshet/datasets';

/** Limits on every input size; each has a setting on the ingest service. */
export interface IngestLimits {
  maxRecordBytes: number;
  maxIdLength: number;
  maxLabels: number;
  maxLabelLength: number;
  maxTokens: number;
  maxTokenLength: number;
}

export const defaultIngestLimits: IngestLimits = {
  maxRecordBytes: 256 * 1024,
  maxIdLength: 256,
  maxLabels: 64,
  maxLabelLength: 64,
  maxTokens: 2_000,
  maxTokenLength: 64,
};

/** Why a record was rejected: a stable code (dead-letter `errorCode`, metric label) and a sentence. */
export interface Rejection {
  code: RejectionCode;
  message: string;
}

/** Every reason a record can be rejected for (dead-letter errorCode, metric label). */
export const rejectionCodes = [
  'RECORD_TOO_LARGE',
  'EMPTY_ID',
  'ID_TOO_LONG',
  'INVALID_UTF8',
  'EMPTY_LABELS',
  'TOO_MANY_LABELS',
  'LABEL_TOO_LONG',
  'EMPTY_TOKENS',
  'TOO_MANY_TOKENS',
  'BAD_NUMBER',
  'EMPTY_RECORD',
  'TRUNCATED',
  'BAD_MAGIC_BYTE',
  'UNKNOWN_SCHEMA_ID',
  'INCOMPATIBLE_SCHEMA',
  'MALFORMED_AVRO',
] as const;

export type RejectionCode = (typeof rejectionCodes)[number];

export type Normalised<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

const reject = <T>(code: RejectionCode, message: string): Normalised<T> => ({ ok: false, rejection: { code, message } });

/**
 * Avro strings are decoded as UTF-8 with replacement, so invalid bytes arrive as U+FFFD; a
 * replacement character (or a control character) in an id or label means the producer sent
 * bytes that are not text, and the record goes to the dead-letter topic.
 */
function badText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s.includes('\uFFFD') || /[\u0000-\u001f\u007f]/.test(s);
}

/** Labels compare equal across producers: NFKC, lower case, trimmed, inner spaces as '_'. */
export function normaliseLabel(label: string): string {
  return label.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, '_');
}

function checkId(id: string, limits: IngestLimits, what: string): Rejection | null {
  const trimmed = id.trim();
  if (trimmed === '') return { code: 'EMPTY_ID', message: `${what} is empty` };
  if (trimmed.length > limits.maxIdLength) return { code: 'ID_TOO_LONG', message: `${what} has ${trimmed.length} characters, the limit is ${limits.maxIdLength}` };
  if (badText(trimmed)) return { code: 'INVALID_UTF8', message: `${what} holds invalid UTF-8 or control characters` };
  return null;
}

function checkTime(t: number, what: string): Rejection | null {
  if (!Number.isFinite(t) || t < 0) return { code: 'BAD_NUMBER', message: `${what} must be a finite, non-negative number of milliseconds, got ${t}` };
  return null;
}

export function normaliseImageLabel(e: ImageLabelEvent, limits: IngestLimits = defaultIngestLimits): Normalised<ImageLabelEvent> {
  const idProblem = checkId(e.imageId, limits, 'imageId') ?? checkTime(e.eventTime, 'eventTime');
  if (idProblem) return { ok: false, rejection: idProblem };
  if (e.weight !== null && !(Number.isFinite(e.weight) && e.weight > 0)) return reject('BAD_NUMBER', `weight must be a finite number > 0, got ${e.weight}`);
  if (e.labels.length > limits.maxLabels) return reject('TOO_MANY_LABELS', `${e.labels.length} labels, the limit is ${limits.maxLabels}`);
  const labels: string[] = [];
  for (const raw of e.labels) {
    if (badText(raw)) return reject('INVALID_UTF8', 'a label holds invalid UTF-8 or control characters');
    const label = normaliseLabel(raw);
    if (label === '') continue;
    if (label.length > limits.maxLabelLength) return reject('LABEL_TOO_LONG', `a label has ${label.length} characters, the limit is ${limits.maxLabelLength}`);
    if (!labels.includes(label)) labels.push(label);
  }
  if (labels.length === 0) return reject('EMPTY_LABELS', 'no labels left after normalisation');
  return { ok: true, value: { imageId: e.imageId.trim(), labels, eventTime: e.eventTime, weight: e.weight, source: e.source } };
}

export function normaliseTextWindow(e: TextWindowEvent, limits: IngestLimits = defaultIngestLimits): Normalised<TextWindowEvent> {
  const idProblem = checkId(e.documentId, limits, 'documentId') ?? checkTime(e.eventTime, 'eventTime');
  if (idProblem) return { ok: false, rejection: idProblem };
  if (!Number.isFinite(e.sequence) || e.sequence < 0) return reject('BAD_NUMBER', `sequence must be a non-negative integer, got ${e.sequence}`);
  if (e.tokens.length > limits.maxTokens) return reject('TOO_MANY_TOKENS', `${e.tokens.length} tokens, the limit is ${limits.maxTokens}`);
  const tokens: string[] = [];
  for (const raw of e.tokens) {
    if (badText(raw)) return reject('INVALID_UTF8', 'a token holds invalid UTF-8 or control characters');
    for (const t of tokenize(raw.normalize('NFKC'))) {
      // over-long "words" are noise (URLs, hashes): dropped, not fatal
      if (t.length <= limits.maxTokenLength) tokens.push(t);
    }
  }
  if (tokens.length > limits.maxTokens) return reject('TOO_MANY_TOKENS', `${tokens.length} tokens after tokenisation, the limit is ${limits.maxTokens}`);
  if (tokens.length === 0) return reject('EMPTY_TOKENS', 'no tokens left after tokenisation');
  return { ok: true, value: { documentId: e.documentId.trim(), sequence: e.sequence, tokens, eventTime: e.eventTime } };
}
