// Proves the query API's parameter parsing: values inside their bounds come back typed, everything
// else is a 400 problem naming the parameter, and cursors round-trip while forged ones are refused.
import { ProblemException } from '@clearline/service-runtime';
import {
  DEFAULT_PAGE_LIMIT, encodeCursor, MAX_POSITION, parseBalancePoint, parseCursor, parseInstant, parseLimit,
} from './query-parameters.js';

function problemOf(parse: () => unknown): { type: string; status: number } {
  try {
    parse();
  } catch (error) {
    if (error instanceof ProblemException) return error.getResponse() as { type: string; status: number };
    throw error;
  }
  throw new Error('expected a problem');
}

describe('parseLimit', () => {
  it('defaults to 50 and accepts 1 to 500', () => {
    expect(parseLimit(undefined)).toBe(DEFAULT_PAGE_LIMIT);
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('500')).toBe(500);
  });

  it.each(['0', '501', '1000', '-1', '1.5', '1e2', ' 5', '', 'ten'])('refuses %j', (value) => {
    expect(problemOf(() => parseLimit(value))).toMatchObject({ type: 'urn:clearline:problem:invalid-limit', status: 400 });
  });

  it('refuses a repeated parameter', () => {
    expect(problemOf(() => parseLimit(['1', '2']))).toMatchObject({ type: 'urn:clearline:problem:invalid-limit' });
  });
});

describe('parseInstant', () => {
  it.each(['2026-11-27T09:30Z', '2026-11-27T09:30:00Z', '2026-11-27T09:30:00.123456+02:00', '2024-02-29T00:00:00-05:30', '2026-11-27t09:30:00z'])('accepts %s as given', (value) => {
    expect(parseInstant('asOf', value)).toBe(value);
  });

  it.each(['2026-11-27', '2026-11-27T09:30:00', '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-27T24:00:00Z', '2026-11-27T09:30:00.1234567Z', 'now'])('refuses %s', (value) => {
    expect(problemOf(() => parseInstant('asOf', value))).toMatchObject({ type: 'urn:clearline:problem:invalid-as-of' });
  });
});

describe('parseBalancePoint', () => {
  it('is now, a time or a position, never both', () => {
    expect(parseBalancePoint({})).toEqual({ kind: 'now' });
    expect(parseBalancePoint({ asOf: '2026-11-27T09:30:00Z' })).toEqual({ kind: 'time', time: '2026-11-27T09:30:00Z' });
    expect(parseBalancePoint({ position: '42' })).toEqual({ kind: 'position', position: 42n });
    expect(parseBalancePoint({ position: MAX_POSITION.toString() })).toEqual({ kind: 'position', position: MAX_POSITION });
    expect(problemOf(() => parseBalancePoint({ position: (MAX_POSITION + 1n).toString() }))).toMatchObject({ type: 'urn:clearline:problem:invalid-position' });
    expect(problemOf(() => parseBalancePoint({ asOf: '2026-11-27T09:30:00Z', position: '1' }))).toMatchObject({ type: 'urn:clearline:problem:conflicting-balance-point' });
  });
});

describe('cursors', () => {
  it('round-trip a position', () => {
    for (const position of [0n, 1n, 123_456_789n, MAX_POSITION]) expect(parseCursor(encodeCursor(position))).toBe(position);
  });

  it.each(['', 'abc', Buffer.from('p:-1').toString('base64url'), Buffer.from('x:12').toString('base64url'), Buffer.from('p:01').toString('base64url'), 'a/b'])('refuses %j', (value) => {
    expect(problemOf(() => parseCursor(value))).toMatchObject({ type: 'urn:clearline:problem:invalid-cursor' });
  });
});

