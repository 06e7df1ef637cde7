import { SettingsTable, setting } from '@freshet/runtime';
import {
  checkId,
  checkTime,
  cleanText,
  foldCase,
  commonIngestLimits,
  reject,
  textProblem,
  type Adjustment,
  type IngestLimits,
  type Normalised,
} from '../../ingest/checks.js';

/** An image known only by its id, and its labels (schemas/image-label-event). */
export interface ImageLabelEvent {
  imageId: string;
  labels: string[];
  eventTime: number;
  /** gradient weight of its pairs (null: 1) */
  weight: number | null;
  source: string | null;
}

/** Ingest's limits on image-label events. */
export const imageLabelLimits = new SettingsTable('image-label events', {
  maxLabels: setting.number({ default: 64, option: 'max-labels', integer: true, min: 1, help: 'most labels per image event' }),
  maxLabelLength: setting.number({ default: 64, option: 'max-label-length', integer: true, min: 1, help: 'longest label' }),
});

/** Labels compare equal across producers: cleaned as text, case-folded, inner spaces as '_'. */
export function normaliseLabel(label: string): string {
  return foldCase(cleanText(label)).replace(/ /g, '_');
}

export function normaliseImageLabel(
  e: ImageLabelEvent,
  all: IngestLimits = { ...commonIngestLimits.defaults, ...imageLabelLimits.defaults },
  now = Date.now(),
): Normalised<ImageLabelEvent> {
  const limits = imageLabelLimits.pick(all);
  const adjustments: Adjustment[] = [];
  const idProblem = checkId(e.imageId, all, 'imageId');
  if (idProblem) return { ok: false, rejection: idProblem };
  const time = checkTime(e.eventTime, all, now, adjustments);
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
    return reject(
      'EMPTY_LABELS',
      why.length > 0 ? `no labels left: every label was left out (${[...new Set(why)].join(', ')})` : 'no labels left after normalisation',
    );
  }
  return { ok: true, value: { imageId: e.imageId.trim(), labels, eventTime: time.time, weight: e.weight, source: e.source }, adjustments };
}
