// Proves the test clock and the seeded randomness the other specs rely on: sleeps wake in due
// order (ties in the order they were set), an aborted sleep is removed, `run` refuses a promise
// that waits on something else; seeded streams repeat exactly and stay in [0, 1).
import { ManualClock } from './manual-clock.js';
import { derivedRandom, seededRandom } from './seeded-random.js';

describe('ManualClock', () => {
  it('wakes sleeps in due order, ties in the order they were set', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    void clock.sleep(30).then(() => woke.push('c@30'));
    void clock.sleep(10).then(() => woke.push('a@10'));
    void clock.sleep(10).then(() => woke.push('b@10'));
    await clock.advanceBy(20);
    expect(woke).toEqual(['a@10', 'b@10']);
    expect(clock.now()).toBe(20);
    await clock.advanceBy(10);
    expect(woke).toEqual(['a@10', 'b@10', 'c@30']);
  });

  it('removes an aborted sleep and rejects it with the reason', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs a promise on virtual time and refuses one that waits on something else', async () => {
    const clock = new ManualClock(0);
    await expect(clock.run(clock.sleep(3_600_000).then(() => clock.now()))).resolves.toBe(3_600_000);
    await expect(clock.run(new Promise(() => undefined))).rejects.toThrow(/no timer/);
  });
});

describe('seeded randomness', () => {
  it('repeats a stream for a seed and stays in [0, 1)', () => {
    const first = seededRandom(42);
    const second = seededRandom(42);
    const values = Array.from({ length: 1_000 }, () => first());
    expect(Array.from({ length: 1_000 }, () => second())).toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
  });

  it('derives independent streams from labels', () => {
    expect(derivedRandom(1, 'a', 'b')()).toBe(derivedRandom(1, 'a', 'b')());
    expect(derivedRandom(1, 'a', 'b')()).not.toBe(derivedRandom(1, 'ab')());
    expect(derivedRandom(1, 'a')()).not.toBe(derivedRandom(2, 'a')());
  });
});
