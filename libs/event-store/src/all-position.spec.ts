// Proves the $all position helpers: ordering by transaction id first, then global position, and a
// text form that round-trips exactly.
import { allPositionOf, compareAllPositions, formatAllPosition, parseAllPosition, START } from './all-position.js';

describe('$all positions', () => {
  it('orders by transaction id first and global position second', () => {
    const positions = [
      { transactionId: 9n, globalPosition: 1n },
      { transactionId: 5n, globalPosition: 7n },
      START,
      { transactionId: 5n, globalPosition: 3n },
    ];
    expect([...positions].sort(compareAllPositions)).toEqual([START, { transactionId: 5n, globalPosition: 3n }, { transactionId: 5n, globalPosition: 7n }, { transactionId: 9n, globalPosition: 1n }]);
    expect(compareAllPositions({ transactionId: 2n, globalPosition: 2n }, { transactionId: 2n, globalPosition: 2n })).toBe(0);
  });

  it('round-trips through text, including values beyond 2^53', () => {
    const position = { transactionId: 18_446_744_073_709_551_615n, globalPosition: 9_223_372_036_854_775_807n };
    expect(parseAllPosition(formatAllPosition(position))).toEqual(position);
    expect(formatAllPosition(START)).toBe('0:0');
  });

  it('refuses malformed text', () => {
    expect(() => parseAllPosition('12')).toThrow(/not an \$all position/);
    expect(() => parseAllPosition('-1:2')).toThrow();
  });

  it('takes an event’s position from its transaction id and global position', () => {
    expect(allPositionOf({ transactionId: 3n, globalPosition: 4n })).toEqual({ transactionId: 3n, globalPosition: 4n });
  });
});
