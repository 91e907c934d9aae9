import { HandlerTimeoutError } from './message-errors.js';

/**
 * The time limit of handler attempts that run one after another (a chunk of messages): one timer,
 * re-armed at the start of each attempt, instead of a timer set and cleared per message. An attempt
 * still running when the timer fires fails with HandlerTimeoutError; the attempt itself cannot be
 * stopped and goes on in the background, so the caller must not reuse its connection. After that the
 * deadline is spent, and running another attempt on it is a programming error.
 */
export class HandlerDeadline {
  private readonly timer: NodeJS.Timeout;
  private readonly expired: Promise<never>;
  private expire: (error: HandlerTimeoutError) => void = () => undefined;
  private running = false;
  private spent = false;

  constructor(readonly timeoutMs: number) {
    this.expired = new Promise<never>((_, reject) => {
      this.expire = reject;
    });
    // Nobody may be racing it when it rejects (an attempt that failed in the same tick).
    this.expired.catch(() => undefined);
    // Between attempts the timer may fire idle; refresh() arms it again for the next one.
    this.timer = setTimeout(() => {
      if (!this.running) return;
      this.spent = true;
      this.expire(new HandlerTimeoutError(timeoutMs));
    }, timeoutMs);
  }

  /** Runs one attempt under the limit. */
  async run(attempt: () => Promise<void>): Promise<void> {
    this.arm();
    try {
      await this.race(attempt());
    } finally {
      this.disarm();
    }
  }

  /**
   * The parts of run(), for a hot loop that cannot afford a closure and an async frame per attempt:
   * arm(), then await race(the attempt), then disarm() whatever the outcome.
   */
  arm(): void {
    if (this.spent) throw new Error('HandlerDeadline: an attempt after a timeout; start a new deadline (bug)');
    this.running = true;
    this.timer.refresh();
  }

  race(attempt: Promise<void>): Promise<void> {
    // A later rejection of an abandoned attempt is handled by the race and ignored.
    return Promise.race([attempt, this.expired]);
  }

  disarm(): void {
    this.running = false;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
