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

/** Structured JSON logs, one line per entry, with the service name on every line. */
export function createLogger(service: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  });
}
