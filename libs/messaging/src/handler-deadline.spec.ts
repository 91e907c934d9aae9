// Proves the one-timer time limit of a chunk's handler attempts: each attempt gets the whole limit
// (the timer is re-armed, not shared), an overrunning attempt fails with HandlerTimeoutError while a
// pause between attempts does not, a handler's own failure passes through, and a spent deadline
// refuses to run another attempt.
import { HandlerDeadline } from './handler-deadline.js';
import { HandlerTimeoutError } from './message-errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('HandlerDeadline', () => {
  const deadlines: HandlerDeadline[] = [];
  const deadlineOf = (timeoutMs: number): HandlerDeadline => {
    const deadline = new HandlerDeadline(timeoutMs);
    deadlines.push(deadline);
    return deadline;
  };
  afterEach(() => {
    for (const deadline of deadlines.splice(0)) deadline.dispose();
  });

  it('gives every attempt the whole time limit, however long the run of attempts', async () => {
    const deadline = deadlineOf(150);
    for (let attempt = 0; attempt < 4; attempt += 1) await deadline.run(() => sleep(90));
  });

  it('does not count a pause between attempts against the next one', async () => {
    const deadline = deadlineOf(80);
    await deadline.run(() => sleep(10));
    await sleep(200);
    await deadline.run(() => sleep(40));
  });

  it('fails an attempt that runs past the limit, and refuses another on the spent deadline', async () => {
    const deadline = deadlineOf(50);
    let finished = false;
    const started = Date.now();
    await expect(deadline.run(async () => {
      await sleep(300);
      finished = true;
    })).rejects.toBeInstanceOf(HandlerTimeoutError);
    expect(Date.now() - started).toBeLessThan(250);
    expect(finished).toBe(false);
    let ran = false;
    await expect(deadline.run(async () => {
      ran = true;
    })).rejects.toThrow(/after a timeout/);
    expect(ran).toBe(false);
  });

  it('passes a handler’s own failure through, thrown or rejected, and stays usable', async () => {
    const deadline = deadlineOf(100);
    await expect(deadline.run(() => Promise.reject(new Error('rejected')))).rejects.toThrow('rejected');
    await expect(deadline.run(() => {
      throw new Error('thrown');
    })).rejects.toThrow('thrown');
    await deadline.run(() => sleep(5));
  });
});
