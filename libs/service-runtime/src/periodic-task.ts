import type { Logger } from './logger.js';

export interface PeriodicTaskOptions {
  /** Pause between the end of one pass and the start of the next. */
  intervalMs: number;
  /** One pass of the work (claim what is due, act on it). */
  pass: () => Promise<unknown>;
  logger: Logger;
  /** Logged (warn) with the error when a pass fails, e.g. 'hold expiry pass failed; trying again'. */
  failureMessage: string;
}

/**
 * The loop behind the services' schedulers (hold expiry, payment timers, settlement closes, connector
 * calls): a pass every `intervalMs` after the previous one ended, so two passes never overlap; a
 * failed pass is logged and the next one comes on time (what it claimed is claimed again later, by
 * each scheduler's own rules). stop() waits for the pass in hand.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private active = false;

  constructor(private readonly options: PeriodicTaskOptions) {
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 1) throw new RangeError(`PeriodicTask: intervalMs must be a positive integer, got ${options.intervalMs}`);
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (!this.active) return;
    this.timer = setTimeout(() => {
      this.running = this.options.pass()
        .then(() => undefined)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, this.options.failureMessage))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
  }
}
