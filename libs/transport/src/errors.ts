/**
 * Infrastructure failures both transports report the same way: a stable code (what callers
 * branch on, never the message), whether trying again may help, and a sentence. Kafka's own
 * error types are mapped here, so no caller matches message text.
 */
export const transportErrorCodes = ['GROUP_NOT_FOUND', 'GROUP_NOT_EMPTY', 'RECORD_TOO_LARGE', 'NO_SUCH_PARTITION', 'UNREACHABLE', 'UNKNOWN'] as const;

export type TransportErrorCode = (typeof transportErrorCodes)[number];

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** Kafka's error type names (kafkajs `type`) for the codes above. */
const KAFKA_TYPES: Readonly<Record<string, TransportErrorCode>> = {
  GROUP_ID_NOT_FOUND: 'GROUP_NOT_FOUND',
  NON_EMPTY_GROUP: 'GROUP_NOT_EMPTY',
  MESSAGE_TOO_LARGE: 'RECORD_TOO_LARGE',
  RECORD_LIST_TOO_LARGE: 'RECORD_TOO_LARGE',
  UNKNOWN_TOPIC_OR_PARTITION: 'NO_SUCH_PARTITION',
};

/** A kafkajs error (or a broker error type it carries) as a TransportError. */
export function fromKafkaError(err: unknown, context: string): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as { type?: string; message?: string; retriable?: boolean; groups?: Array<{ error?: { type?: string; message?: string } }> };
  // a per-group error of deleteGroups is wrapped one level down
  const inner = e.groups?.[0]?.error;
  const type = inner?.type ?? e.type ?? '';
  const message = inner?.message ?? e.message ?? String(err);
  return new TransportError(KAFKA_TYPES[type] ?? 'UNKNOWN', `${context}: ${type !== '' ? `${type}: ` : ''}${message}`, e.retriable === true, { cause: err });
}

/** kafkajs errors that mean no broker answered (not that one refused): worth waiting out. */
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
]);
const UNREACHABLE_TEXT = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Connection (error|timeout)|Closed connection/;

/**
 * Whether an error (or one it wraps: kafkajs nests the last attempt's error in `cause` when
 * retries run out) says the cluster could not be reached: a broker down, a wrong address, a
 * network partition. The consumer waits those out instead of counting them as failures of its
 * handler, and the command line answers them with one line naming the broker option.
 */
export function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof TransportError) return e.code === 'UNREACHABLE';
    const x = e as { name?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof x.name === 'string' && UNREACHABLE_NAMES.has(x.name)) return true;
    if (typeof x.message === 'string' && UNREACHABLE_TEXT.test(x.message)) return true;
    e = x.cause ?? x.originalError;
  }
  return false;
}
