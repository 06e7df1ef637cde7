import pino, { type Logger } from 'pino';

/** Paths pino blanks out wherever they appear: SASL passwords, registry credentials, tokens. */
export const redactedPaths = [
  'password',
  '*.password',
  '*.*.password',
  'sasl.password',
  'registryPassword',
  '*.registryPassword',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
];

/**
 * NDJSON logs on stdout (what log shippers expect in production), one logger per service with
 * child loggers per component. `FRESHET_LOG_LEVEL` sets the level (default info).
 */
export function createLogger(service: string, options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: service,
      level: options.level ?? process.env.FRESHET_LOG_LEVEL ?? 'info',
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** Routes kafkajs log lines into a pino logger (the transport's `log` option). */
export function kafkaLogBridge(logger: Logger): (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void {
  const child = logger.child({ component: 'kafkajs' });
  return (level, message, extra) => child[level](extra, message);
}

export type { Logger };
