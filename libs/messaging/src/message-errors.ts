/**
 * Thrown by a handler for a message that can never succeed however often it is retried (a state the
 * message contradicts, a reference that cannot exist). The consumer skips the remaining attempts and
 * dead-letters the message at once, with this error's message as the reason.
 */
export class PermanentMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentMessageError';
  }
}

/**
 * A failure of the machinery around the handler (PostgreSQL unreachable, the inbox table missing, the
 * dead-letter topic missing). It is no fault of the message: the consumer does not dead-letter it
 * but lets Kafka redeliver it once the consumer has restarted, so an outage loses nothing.
 */
export class MessagingInfrastructureError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MessagingInfrastructureError';
  }
}

/** Handler attempt that ran past its time limit; its connection is closed, so its work is undone. */
export class HandlerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`handler did not finish within ${timeoutMs} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

const CONNECTIVITY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True for errors that say the database (or network) is unavailable rather than that this message
 * is bad: SQLSTATE class 08 (connection exception), 57P01-57P03 (server shutting down or starting),
 * 53xxx (insufficient resources), socket errors, and pg's own "Connection terminated".
 */
export function isConnectivityError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTIVITY_CODES.has(code)) return true;
    if (/^(08|53)[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
