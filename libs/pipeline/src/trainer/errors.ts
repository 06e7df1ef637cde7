/** Why a checkpoint cannot be restored: a stable code (logs, tests, the CLI) and a sentence that says what to do. */
export const checkpointErrorCodes = ['DAMAGED', 'UNKNOWN_FORMAT', 'MALFORMED', 'SETTINGS_MISMATCH', 'STALE', 'OWNED'] as const;

export type CheckpointErrorCode = (typeof checkpointErrorCodes)[number];

export class CheckpointError extends Error {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}
