export { labelWords, labelWordVector, meanVector, unit, type WordVectors } from './label-words.js';
export { fitZeroShot, MIN_SEEN_LABELS, ZERO_SHOT_METHODS, type SeenLabels, type ZeroShotMethod, type ZeroShotModel } from './zero-shot.js';
export { zeroShotLabels, type LabelRows, type ZeroShotLabels } from './synthesise.js';
