/** What to do with a checkpoint whose offsets do not belong to the log it would resume (see restore.ts). */
export const staleCheckpointPolicies = ['fail', 'reset-to-checkpoint', 'reset-to-earliest'] as const;
export type StaleCheckpointPolicy = (typeof staleCheckpointPolicies)[number];

/**
 * Which changed rows go to the model-updates topic between checkpoints: `fresh`, the rows new
 * events touched (with new and deleted ones), the rest at the next checkpoint; `all`, every row
 * SGD changed (replay moves rows no new event named, at this scale most of the model every second).
 */
export const updateScopes = ['fresh', 'all'] as const;
/**
 * A drain's scope: `fresh` and `all` as above; `hold-replayed` (a checkpoint's drain when the
 * replayed rows are not due this time) takes every changed row into the increment but returns only
 * the fresh ones, keeping the rest owed to the next `all` drain.
 */
export type DrainScope = (typeof updateScopes)[number] | 'hold-replayed';

/** What to do with a checkpoint that fails its checksums or holds non-finite numbers (see damaged.ts). */
export const damagedCheckpointPolicies = ['previous', 'fail', 'reset'] as const;
export type DamagedCheckpointPolicy = (typeof damagedCheckpointPolicies)[number];
