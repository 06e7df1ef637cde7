/**
 * Learning-rate schedules. A stream never ends, so the streaming default cannot decay to zero
 * over a known total the way word2vec does. We use `floor` for streams:
 *   lr(t) = floorRate + (lr0 - floorRate) · τ / (τ + t)
 * fast early learning, then a constant floor that keeps adapting to drift forever and never
 * freezes the model. `linear` (word2vec/gensim: lr0 down to lr0·1e-4 over the known number of
 * steps) is for offline runs and fair comparisons with those tools; `constant` is the VSE-ens
 * paper's setting.
 */
export type ScheduleConfig =
  | { kind: 'constant'; lr: number }
  | { kind: 'linear'; lr: number; minLr: number; totalSteps: number }
  | { kind: 'floor'; lr: number; floorLr: number; halfLifeSteps: number };

export function learningRate(s: ScheduleConfig, step: number): number {
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'linear': {
      const progress = Math.min(1, step / Math.max(1, s.totalSteps));
      return Math.max(s.minLr, s.lr * (1 - progress));
    }
    case 'floor':
      return s.floorLr + ((s.lr - s.floorLr) * s.halfLifeSteps) / (s.halfLifeSteps + step);
  }
}
