import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that must never be written, whatever a caller logs: card data and secrets (PCI DSS).
 * Redaction is a safety net; the first rule is that such values never reach a log call at all.
 */
export const REDACTED_PATHS = [
  'pan', '*.pan', 'cardNumber', '*.cardNumber', 'cvv', '*.cvv', 'cvc', '*.cvc',
  'secret', '*.secret', 'password', '*.password',
  'headers.authorization', '*.headers.authorization', 'headers["x-signature"]', '*.headers["x-signature"]',
];

/**
 * Structured JSON logs, one line per entry, with the service name on every line: to standard output,
 * or appended to `file` (LOG_FILE) when given, written synchronously so a line is on disk once logged.
 */
export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info', file?: string): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return file === undefined ? pino(options) : pino(options, pino.destination({ dest: file, sync: true, mkdir: true, append: true }));
}
