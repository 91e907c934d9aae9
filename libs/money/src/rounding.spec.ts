// Proves divideRounded for every rounding mode on positive/negative ties and non-ties, and refuses bad modes.
import { InvalidArgumentError } from './errors.js';
import { DEFAULT_ROUNDING, ROUNDING_MODES, type RoundingMode, assertRoundingMode, divideRounded } from './rounding.js';

// Each row: numerator / 10, then the expected integer for each mode in ROUNDING_MODES order
// (half-even, half-up, down, up, floor, ceiling).
const TABLE: readonly [bigint, readonly [bigint, bigint, bigint, bigint, bigint, bigint]][] = [
  [50n, [5n, 5n, 5n, 5n, 5n, 5n]], // 5.0 exact
  [51n, [5n, 5n, 5n, 6n, 5n, 6n]], // 5.1
  [55n, [6n, 6n, 5n, 6n, 5n, 6n]], // 5.5 tie, 5 odd -> 6
  [25n, [2n, 3n, 2n, 3n, 2n, 3n]], // 2.5 tie, 2 even -> 2
  [59n, [6n, 6n, 5n, 6n, 5n, 6n]], // 5.9
  [5n, [0n, 1n, 0n, 1n, 0n, 1n]], // 0.5 tie -> 0
  [15n, [2n, 2n, 1n, 2n, 1n, 2n]], // 1.5 tie -> 2
  [-51n, [-5n, -5n, -5n, -6n, -6n, -5n]], // -5.1
  [-55n, [-6n, -6n, -5n, -6n, -6n, -5n]], // -5.5 tie
  [-25n, [-2n, -3n, -2n, -3n, -3n, -2n]], // -2.5 tie
  [-59n, [-6n, -6n, -5n, -6n, -6n, -5n]], // -5.9
  [-5n, [0n, -1n, 0n, -1n, -1n, 0n]], // -0.5 tie
  [0n, [0n, 0n, 0n, 0n, 0n, 0n]],
];

describe('divideRounded', () => {
  it('uses half-even as the default and knows six modes', () => {
    expect(DEFAULT_ROUNDING).toBe('half-even');
    expect(ROUNDING_MODES).toEqual(['half-even', 'half-up', 'down', 'up', 'floor', 'ceiling']);
  });

  for (const [numerator, expected] of TABLE) {
    ROUNDING_MODES.forEach((mode, index) => {
      it(`${numerator}/10 with ${mode} is ${expected[index]}`, () => {
        expect(divideRounded(numerator, 10n, mode)).toBe(expected[index]);
      });
    });
  }

  it('normalises a negative denominator', () => {
    expect(divideRounded(55n, -10n, 'half-even')).toBe(-6n);
    expect(divideRounded(-51n, -10n, 'floor')).toBe(5n);
  });

  it('is exact far beyond 2^53', () => {
    const big = 10n ** 40n;
    expect(divideRounded(big * 10n + 5n, 10n, 'half-even')).toBe(big);
    expect(divideRounded(big * 10n + 15n, 10n, 'half-even')).toBe(big + 2n);
  });

  it('refuses division by zero and unknown modes', () => {
    expect(() => divideRounded(1n, 0n, 'down')).toThrow(InvalidArgumentError);
    expect(() => assertRoundingMode('nearest')).toThrow('Invalid rounding mode "nearest"');
    expect(() => divideRounded(15n, 10n, 'HALF_EVEN' as RoundingMode)).toThrow(InvalidArgumentError);
    expect(() => assertRoundingMode(undefined)).toThrow(InvalidArgumentError);
  });
});
