import type { FeedSource } from '../stream.js';
import type { StreamDefinition } from '../stream.js';
import { TextWindowsLearner } from './learner.js';
import { normaliseTextWindow, textWindowLimits, type TextWindowEvent } from './normalise.js';
import { textWindowsSettings } from './settings.js';

export { TextWindowsLearner } from './learner.js';
export { normaliseTextWindow, textWindowLimits, type TextWindowEvent } from './normalise.js';
export { textWindowsSettings, type TextWindowsSettings } from './settings.js';

/** Runs of text from documents: the skip-gram stream. */
export const textWindowsStream: StreamDefinition<TextWindowEvent, (typeof textWindowLimits)['specs'], (typeof textWindowsSettings)['specs']> = {
  name: 'text-windows',
  summary: 'text-window events: a run of tokens from a document',
  schema: 'text-window-event',
  kinds: ['WORD'],
  key: (e) => e.documentId,
  limits: textWindowLimits,
  normalise: normaliseTextWindow,
  settings: textWindowsSettings,
  createLearner: (ctx) => new TextWindowsLearner(ctx, (e) => e.tokens),
};

/** Text windows as raw events for the feeder, numbered per document in order (event time: when each is sent). */
export function textWindowSource(windows: ReadonlyArray<{ documentId: string; tokens: string[] }>): FeedSource<TextWindowEvent> {
  const sequence = new Map<string, number>();
  const numbers = windows.map((w) => {
    const n = sequence.get(w.documentId) ?? 0;
    sequence.set(w.documentId, n + 1);
    return n;
  });
  return {
    stream: textWindowsStream.name,
    count: windows.length,
    event: (i, now) => ({ documentId: windows[i].documentId, sequence: numbers[i], tokens: windows[i].tokens, eventTime: now }),
  };
}
