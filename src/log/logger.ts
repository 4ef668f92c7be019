import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log record. Tokens and secrets are never logged on
 * purpose; this is the net under that rule.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'token',
  'secret',
  'password',
  '*.token',
  '*.secret',
  '*.password',
  '*.masterKey',
  'config.masterKey',
];

/**
 * JSON lines to `destination`, by default stdout written asynchronously in batches: one write per request
 * would cost the service a system call per request. Call {@link flushLogs} before exiting.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lanyard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

export function flushLogs(log: Logger): void {
  try {
    log.flush();
  } catch {
    // nothing buffered, or stdout already closed
  }
}
