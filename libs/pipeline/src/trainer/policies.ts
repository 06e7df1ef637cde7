/** What to do with a checkpoint whose offsets do not belong to the log it would resume (see restore.ts). */
export const staleCheckpointPolicies = ['fail', 'reset-to-checkpoint', 'reset-to-earliest'] as const;
export type StaleCheckpointPolicy = (typeof staleCheckpointPolicies)[number];

/**
 * Which changed rows go to the model-updates topic between checkpoints: `fresh`, the rows new
 * events touched (with new and deleted ones), the rest at the next checkpoint; `all`, every row
 * SGD changed (replay moves rows no new event named, at this scale most of the model every second).
 */
export const updateScopes = ['fresh', 'all'] as const;
export type DrainScope = (typeof updateScopes)[number];

/** What to do with a checkpoint that fails its checksums or holds non-finite numbers (see damaged.ts). */
export const damagedCheckpointPolicies = ['previous', 'fail', 'reset'] as const;
export type DamagedCheckpointPolicy = (typeof damagedCheckpointPolicies)[number];
