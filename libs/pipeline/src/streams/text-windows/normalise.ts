import { tokenize } from '@freshet/datasets';
import { SettingsTable, setting } from '@freshet/runtime';
import {
  checkId,
  checkTime,
  cleanText,
  commonIngestLimits,
  reject,
  textProblem,
  type Adjustment,
  type IngestLimits,
  type Normalised,
} from '../../ingest/checks.js';

/** A run of text from a document (schemas/text-window-event). */
export interface TextWindowEvent {
  documentId: string;
  /** position of the window within its document */
  sequence: number;
  tokens: string[];
  eventTime: number;
}

/** Ingest's limits on text-window events. */
export const textWindowLimits = new SettingsTable('text-window events', {
  maxTokens: setting.number({ default: 2_000, option: 'max-tokens', integer: true, min: 1, help: 'most tokens per text window' }),
  maxTokenLength: setting.number({ default: 64, option: 'max-token-length', integer: true, min: 1, help: 'longer tokens are dropped' }),
});

export function normaliseTextWindow(
  e: TextWindowEvent,
  all: IngestLimits = { ...commonIngestLimits.defaults, ...textWindowLimits.defaults },
  now = Date.now(),
): Normalised<TextWindowEvent> {
  const limits = textWindowLimits.pick(all);
  const adjustments: Adjustment[] = [];
  const idProblem = checkId(e.documentId, all, 'documentId');
  if (idProblem) return { ok: false, rejection: idProblem };
  const time = checkTime(e.eventTime, all, now, adjustments);
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
  if (tokens.length === 0)
    return reject('EMPTY_TOKENS', adjustments.length > 0 ? 'no tokens left: every token was left out' : 'no tokens left after tokenisation');
  return { ok: true, value: { documentId: e.documentId.trim(), sequence: e.sequence, tokens, eventTime: time.time }, adjustments };
}
