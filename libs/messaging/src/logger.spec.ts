// Proves pino's logger fits our Logger interface (checked by the compiler), and that childLogger
// binds fields through pino's child() or, for a plain logger, by merging them into every line.
import { pino } from 'pino';
import { childLogger, silentLogger, type Logger } from './logger.js';

describe('Logger', () => {
  it('accepts a pino logger as it is', () => {
    const logger: Logger = pino({ enabled: false });
    expect(childLogger(logger, { correlationId: 'c' })).toBeDefined();
  });

  it('merges bindings into each line of a logger without child()', () => {
    const lines: object[] = [];
    const plain: Logger = { ...silentLogger, info: (fields) => lines.push(fields) };
    const child = childLogger(childLogger(plain, { messageId: 'm' }), { correlationId: 'c' });
    child.info({ attempt: 2 }, 'retrying');
    expect(lines).toEqual([{ messageId: 'm', correlationId: 'c', attempt: 2 }]);
  });
});
