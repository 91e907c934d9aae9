import { ProblemException } from '@clearline/service-runtime';

/**
 * Parsing of the query API's parameters. Every value arrives as untrusted text (or an array, when a
 * parameter is repeated); each parser either returns a value inside its bounds or throws a 400
 * problem naming the parameter. Nothing is clamped silently: a caller asking for 10,000 rows learns
 * the bound instead of getting 500 and thinking it saw everything.
 */

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;
/** PostgreSQL's bigint, the type of global positions. */
export const MAX_POSITION = 9_223_372_036_854_775_807n;

export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** The gateway's rule for correlation ids (correlation.middleware.ts): what it lets through is what can be asked for. */
export const CORRELATION_ID = /^[A-Za-z0-9._:-]{8,128}$/;
const LIMIT = /^[1-9][0-9]{0,2}$/;
const POSITION = /^(0|[1-9][0-9]{0,18})$/;
/** RFC 3339 date-time: a date, a time to the minute at least, an explicit offset. No local times: they mean different instants on different servers. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;
const CURSOR_PREFIX = 'p:';

function invalid(parameter: string, detail: string): ProblemException {
  return new ProblemException(400, `invalid-${parameter.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, `Invalid ${parameter}`, detail, { parameter });
}

function single(parameter: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(parameter, `${parameter} must be given once, as text`);
  return value;
}

export function parseAccountId(value: unknown): string {
  const accountId = single('accountId', value);
  if (accountId === undefined || !IDENTIFIER.test(accountId)) throw new ProblemException(400, 'invalid-account-id', 'Invalid account id', `'${String(value)}' is not a valid account id`);
  return accountId;
}

export function parseLimit(value: unknown): number {
  const text = single('limit', value);
  if (text === undefined) return DEFAULT_PAGE_LIMIT;
  const limit = LIMIT.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) throw invalid('limit', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got '${text}'`);
  return limit;
}

export function parsePosition(value: unknown): bigint | undefined {
  const text = single('position', value);
  if (text === undefined) return undefined;
  if (!POSITION.test(text) || BigInt(text) > MAX_POSITION) throw invalid('position', `position must be a global position (an integer from 0 to ${MAX_POSITION}), got '${text}'`);
  return BigInt(text);
}

/**
 * An instant as RFC 3339 text, checked field by field (Date.parse would roll 2026-02-30 over into
 * March). It is returned as given, so PostgreSQL reads it with its full microsecond precision.
 */
export function parseInstant(parameter: string, value: unknown): string | undefined {
  const text = single(parameter, value);
  if (text === undefined) return undefined;
  const match = INSTANT.exec(text);
  const valid = match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))
    && Number(match[4]) < 24 && Number(match[5]) < 60 && Number(match[6] ?? 0) < 60
    && Number(match[7] ?? 0) < 24 && Number(match[8] ?? 0) < 60;
  if (!valid) throw invalid(parameter, `${parameter} must be an RFC 3339 date-time with an offset, e.g. 2026-11-27T09:30:00Z, got '${text}'`);
  return text;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one, leap years included.
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A balance is read now, as of a time, or as of a global position: at most one of the two. */
export type BalancePoint = { kind: 'now' } | { kind: 'time'; time: string } | { kind: 'position'; position: bigint };

export function parseBalancePoint(query: { asOf?: unknown; position?: unknown }): BalancePoint {
  const time = parseInstant('asOf', query.asOf);
  const position = parsePosition(query.position);
  if (time !== undefined && position !== undefined) {
    throw new ProblemException(400, 'conflicting-balance-point', 'Conflicting balance point', 'Give asOf (a time) or position (a global position), not both.');
  }
  if (time !== undefined) return { kind: 'time', time };
  if (position !== undefined) return { kind: 'position', position };
  return { kind: 'now' };
}

export function parseCorrelationId(value: unknown): string {
  const correlationId = single('correlationId', value);
  if (correlationId === undefined || !CORRELATION_ID.test(correlationId)) {
    throw invalid('correlationId', 'correlationId is required: 8-128 characters of letters, digits and . _ : -');
  }
  return correlationId;
}

/**
 * Cursors are opaque to clients: base64url of the last global position a page returned. Keyset
 * paging on the position never skips or repeats a row as new entries arrive, unlike an offset.
 */
export function encodeCursor(position: bigint): string {
  return Buffer.from(`${CURSOR_PREFIX}${position}`, 'utf8').toString('base64url');
}

export function parseCursor(value: unknown): bigint | undefined {
  const text = single('cursor', value);
  if (text === undefined) return undefined;
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const position = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!POSITION.test(position) || BigInt(position) > MAX_POSITION) throw invalid('cursor', 'cursor must be a value from a previous page\'s nextCursor');
  return BigInt(position);
}
