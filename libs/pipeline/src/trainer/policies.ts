/** What to do with a checkpoint whose offsets do not belong to the log it would resume (see restore.ts). */
export const staleCheckpointPolicies = ['fail', 'reset-to-checkpoint', 'reset-to-earliest'] as const;
export type StaleCheckpointPolicy = (typeof staleCheckpointPolicies)[number];

/** What to do with a checkpoint that fails its checksums or holds non-finite numbers (see damaged.ts). */
export const damagedCheckpointPolicies = ['previous', 'fail', 'reset'] as const;
export type DamagedCheckpointPolicy = (typeof damagedCheckpointPolicies)[number];
