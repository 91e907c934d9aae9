// Proves which errors count as "the database is unavailable" (redeliver later, never dead-letter)
// rather than "this message failed" (retry, then dead-letter).
import { describeError, isConnectivityError, PermanentMessageError } from './message-errors.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isConnectivityError', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['SQLSTATE 08006 (connection failure)', withCode('08006')],
    ['SQLSTATE 57P01 (admin shutdown)', withCode('57P01')],
    ['SQLSTATE 57P03 (cannot connect now)', withCode('57P03')],
    ['SQLSTATE 53300 (too many connections)', withCode('53300')],
    ["pg's Connection terminated", new Error('Connection terminated unexpectedly')],
    ["pg-pool's connect timeout", new Error('timeout exceeded when trying to connect')],
  ])('is true for %s', (_name, error) => {
    expect(isConnectivityError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a serialization failure', withCode('40001')],
    ['a query cancelled by statement timeout', withCode('57014')],
    ['a plain error', new Error('boom')],
    ['a permanent message error', new PermanentMessageError('no such payment')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('is false for %s', (_name, error) => {
    expect(isConnectivityError(error)).toBe(false);
  });
});

describe('describeError', () => {
  it('names the error class and message, or stringifies a non-error', () => {
    expect(describeError(new PermanentMessageError('no such payment'))).toBe('PermanentMessageError: no such payment');
    expect(describeError('plain')).toBe('plain');
  });
});
