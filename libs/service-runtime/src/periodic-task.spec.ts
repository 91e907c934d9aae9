// Proves PeriodicTask: passes run one after another (never overlapping) every interval, a failed
// pass is logged and the next still comes, and stop() waits for the pass in hand and ends the loop.
import { PeriodicTask } from './periodic-task.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recordingLogger() {
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined };
  return { logger: logger as never, warnings };
}

describe('PeriodicTask', () => {
  it('runs passes one after another, never two at once, until stopped', async () => {
    let passes = 0;
    let inPass = 0;
    let mostInPass = 0;
    const { logger } = recordingLogger();
    const task = new PeriodicTask({
      intervalMs: 5, logger, failureMessage: 'failed',
      pass: async () => {
        inPass += 1;
        mostInPass = Math.max(mostInPass, inPass);
        await sleep(15);
        passes += 1;
        inPass -= 1;
      },
    });
    task.start();
    await sleep(120);
    await task.stop();
    const afterStop = passes;
    await sleep(50);
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(mostInPass).toBe(1);
    expect(passes).toBe(afterStop);
  });

  it('logs a failed pass and runs the next one', async () => {
    let calls = 0;
    const { logger, warnings } = recordingLogger();
    const task = new PeriodicTask({
      intervalMs: 5, logger, failureMessage: 'pass failed; trying again',
      pass: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database unavailable');
      },
    });
    task.start();
    await sleep(60);
    await task.stop();
    expect(warnings[0]).toBe('pass failed; trying again');
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('waits for the pass in hand when stopped', async () => {
    let finished = false;
    const task = new PeriodicTask({
      intervalMs: 1, logger: recordingLogger().logger, failureMessage: 'failed',
      pass: async () => {
        await sleep(40);
        finished = true;
      },
    });
    task.start();
    await sleep(10);
    await task.stop();
    expect(finished).toBe(true);
  });

  it('refuses an interval that is not a positive integer', () => {
    expect(() => new PeriodicTask({ intervalMs: 0, logger: recordingLogger().logger, failureMessage: 'x', pass: async () => undefined })).toThrow(RangeError);
  });
});
