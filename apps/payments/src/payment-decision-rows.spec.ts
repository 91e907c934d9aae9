// Proves that a decision's timer commands fold to their net effect per deadline (so one statement
// can apply them without writing a row twice), and that the bounded cache behind the remembered
// payment states and hold index keeps the most recently used entries within its capacity.
import type { TimerCommand } from '@clearline/payments-domain';
import { BoundedCache } from './bounded-cache.js';
import { foldTimerCommands } from './payment-tables.js';

const schedule = (deadlineId: string, attempt = 1): TimerCommand => ({
  type: 'ScheduleTimeout', data: { wait: 'ledger', deadlineId, attempt, dueAt: `2026-01-01T00:00:0${attempt}.000Z` },
});
const cancel = (deadlineId: string): TimerCommand => ({ type: 'CancelTimeout', data: { deadlineId } });

describe('foldTimerCommands', () => {
  it('keeps distinct deadlines as they are', () => {
    expect(foldTimerCommands([cancel('risk'), schedule('ledger:hold')])).toEqual({ cancelled: ['risk'], scheduled: [schedule('ledger:hold').data] });
  });

  it('lets the last command for a deadline win: a cancel after a schedule deletes, a schedule after a cancel writes', () => {
    expect(foldTimerCommands([schedule('ledger:hold'), cancel('ledger:hold')])).toEqual({ cancelled: ['ledger:hold'], scheduled: [] });
    expect(foldTimerCommands([cancel('ledger:hold'), schedule('ledger:hold', 2)])).toEqual({ cancelled: [], scheduled: [schedule('ledger:hold', 2).data] });
    expect(foldTimerCommands([schedule('ledger:hold', 1), schedule('ledger:hold', 2)])).toEqual({ cancelled: [], scheduled: [schedule('ledger:hold', 2).data] });
  });

  it('records nothing for no commands', () => {
    expect(foldTimerCommands([])).toEqual({ cancelled: [], scheduled: [] });
  });
});

describe('BoundedCache', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // 'a' is now the most recently used
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.size]).toEqual([1, 3, 2]);
  });

  it('replaces a value set again and forgets a deleted one', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('a', 2);
    cache.delete('b');
    expect([cache.get('a'), cache.size]).toEqual([2, 1]);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a capacity of %p', (capacity) => {
    expect(() => new BoundedCache(capacity)).toThrow(RangeError);
  });
});
