// Proves pino's logger fits our Logger interface (checked by the compiler), that childLogger
// binds fields through pino's child() or, for a plain logger, by merging them into every line, and
// that lazyChildLogger builds its child only when a line is logged, once.
import { pino } from 'pino';
import { childLogger, lazyChildLogger, silentLogger, type Logger } from './logger.js';

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

  it('builds a lazy child on its first line only, once, with the bindings of that moment', () => {
    const lines: object[] = [];
    let children = 0;
    let bindingsBuilt = 0;
    const parent: Logger = {
      ...silentLogger,
      child: (bindings) => {
        children += 1;
        return { ...silentLogger, warn: (fields) => lines.push({ ...bindings, ...fields }), info: (fields) => lines.push({ ...bindings, ...fields }) };
      },
    };
    const lazy = lazyChildLogger(parent, () => {
      bindingsBuilt += 1;
      return { messageId: 'm' };
    });
    expect(children).toBe(0);
    expect(bindingsBuilt).toBe(0);
    lazy.warn({ attempt: 1 }, 'retrying');
    lazy.info({ attempt: 2 }, 'retrying');
    expect(children).toBe(1);
    expect(bindingsBuilt).toBe(1);
    expect(lines).toEqual([{ messageId: 'm', attempt: 1 }, { messageId: 'm', attempt: 2 }]);
  });
});
