// A circuit breaker per connector: after enough failures it stops calling a provider for a
// cool-down, so a broken rail costs one fast refusal instead of a timeout per payment, and the
// router can move on to the next connector at once. After the cool-down a few probes decide
// whether to close again. Pure state plus an injected clock: no timers, no I/O.
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Numeric encoding for a gauge: 0 closed, 1 half-open, 2 open (higher is worse). */
export const BREAKER_STATE_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

export interface FailureRateThreshold {
  /** Opens when at least this percentage (integer 1..100) of the window's calls failed. */
  readonly thresholdPercent: number;
  /** The last N calls (closed state only) that the rate is computed over. */
  readonly windowSize: number;
  /** No rate decision before the window holds this many calls: one failure out of one is no trend. */
  readonly minimumCalls: number;
}

export interface CircuitBreakerOptions {
  /** Opens after this many failures in a row. */
  readonly consecutiveFailuresToOpen: number;
  /** Optionally also opens on a failure rate, which catches a provider failing every other call. */
  readonly failureRate: FailureRateThreshold | null;
  /** How long it stays open before letting probes through (the cool-down). */
  readonly openDurationMs: number;
  /** Calls allowed at once while half-open; the rest are refused as if open. */
  readonly halfOpenMaxProbes: number;
  /** Successful probes needed to close; one failed probe opens it again. */
  readonly halfOpenSuccessesToClose: number;
}

export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  consecutiveFailuresToOpen: 5,
  failureRate: { thresholdPercent: 50, windowSize: 20, minimumCalls: 10 },
  openDurationMs: 30_000,
  halfOpenMaxProbes: 1,
  halfOpenSuccessesToClose: 1,
};

/** Upper bounds, so a typo in configuration cannot make a breaker that never reopens or never closes. */
const LIMITS = { consecutiveFailures: 1_000, windowSize: 1_000, openDurationMs: 600_000, probes: 100 } as const;

export type BreakerTransitionReason = 'consecutive_failures' | 'failure_rate' | 'cool_down_elapsed' | 'probe_failed' | 'probes_succeeded';

export interface BreakerTransition {
  readonly connectorId: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly reason: BreakerTransitionReason;
  readonly atMs: number;
}

/** What a metrics exporter or a health endpoint reads. */
export interface BreakerSnapshot {
  readonly connectorId: string;
  readonly state: BreakerState;
  readonly stateValue: number;
  readonly consecutiveFailures: number;
  readonly windowCalls: number;
  readonly windowFailures: number;
  /** When it last opened, or null if it never did. */
  readonly openedAtMs: number | null;
  /** While open: when probes will be let through. */
  readonly halfOpenAtMs: number | null;
  readonly timesOpened: number;
}

/**
 * Permission for one call. Report exactly one of succeed / fail / release (the later ones are
 * ignored): release is for a call that ended without saying anything about the provider's health
 * (the caller aborted), so it frees a half-open probe slot without counting.
 */
export interface BreakerPermit {
  succeed(): void;
  fail(): void;
  release(): void;
}

export function resolveBreakerOptions(overrides: Partial<CircuitBreakerOptions> = {}): CircuitBreakerOptions {
  const options = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...overrides };
  assertInteger('consecutiveFailuresToOpen', options.consecutiveFailuresToOpen, 1, LIMITS.consecutiveFailures);
  assertInteger('openDurationMs', options.openDurationMs, 1, LIMITS.openDurationMs);
  assertInteger('halfOpenMaxProbes', options.halfOpenMaxProbes, 1, LIMITS.probes);
  assertInteger('halfOpenSuccessesToClose', options.halfOpenSuccessesToClose, 1, LIMITS.probes);
  if (options.failureRate !== null) {
    const { thresholdPercent, windowSize, minimumCalls } = options.failureRate;
    assertInteger('failureRate.thresholdPercent', thresholdPercent, 1, 100);
    assertInteger('failureRate.windowSize', windowSize, 1, LIMITS.windowSize);
    assertInteger('failureRate.minimumCalls', minimumCalls, 1, windowSize);
  }
  return options;
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`circuit breaker ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

export class CircuitBreaker {
  readonly options: CircuitBreakerOptions;
  #state: BreakerState = 'closed';
  // Bumped on every transition: a permit issued in an earlier state must not move the current one
  // (a slow call started while closed must not close a breaker that has since opened and half-opened).
  #generation = 0;
  #consecutiveFailures = 0;
  // Ring buffer of the last windowSize outcomes in the closed state (true = failure).
  #window: boolean[] = [];
  #windowNext = 0;
  #windowFailures = 0;
  #openedAtMs: number | null = null;
  #timesOpened = 0;
  #probesInFlight = 0;
  #probeSuccesses = 0;

  constructor(
    readonly connectorId: string,
    options: Partial<CircuitBreakerOptions>,
    private readonly clock: Clock,
    private readonly onTransition: (transition: BreakerTransition) => void = () => undefined,
  ) {
    this.options = resolveBreakerOptions(options);
  }

  /** The current state; an open breaker whose cool-down has elapsed reads (and becomes) half-open. */
  get state(): BreakerState {
    this.#coolDown();
    return this.#state;
  }

  /** A permit if a call may go out now, or null when open (or half-open with every probe slot taken). */
  tryAcquire(): BreakerPermit | null {
    this.#coolDown();
    if (this.#state === 'open') return null;
    if (this.#state === 'half_open') {
      if (this.#probesInFlight >= this.options.halfOpenMaxProbes) return null;
      this.#probesInFlight += 1;
    }
    return this.#permit(this.#generation, this.#state === 'half_open');
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    return {
      connectorId: this.connectorId,
      state,
      stateValue: BREAKER_STATE_VALUES[state],
      consecutiveFailures: this.#consecutiveFailures,
      windowCalls: this.#window.length,
      windowFailures: this.#windowFailures,
      openedAtMs: this.#openedAtMs,
      halfOpenAtMs: state === 'open' && this.#openedAtMs !== null ? this.#openedAtMs + this.options.openDurationMs : null,
      timesOpened: this.#timesOpened,
    };
  }

  #permit(generation: number, probe: boolean): BreakerPermit {
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release'): void => {
      if (settled) return;
      settled = true;
      if (generation !== this.#generation) return;
      if (probe) this.#probesInFlight -= 1;
      if (outcome === 'success') this.#onSuccess();
      else if (outcome === 'failure') this.#onFailure();
    };
    return { succeed: () => settle('success'), fail: () => settle('failure'), release: () => settle('release') };
  }

  #onSuccess(): void {
    if (this.#state === 'half_open') {
      this.#probeSuccesses += 1;
      if (this.#probeSuccesses >= this.options.halfOpenSuccessesToClose) this.#transition('closed', 'probes_succeeded');
      return;
    }
    this.#consecutiveFailures = 0;
    this.#record(false);
  }

  #onFailure(): void {
    if (this.#state === 'half_open') {
      this.#transition('open', 'probe_failed');
      return;
    }
    this.#consecutiveFailures += 1;
    this.#record(true);
    if (this.#consecutiveFailures >= this.options.consecutiveFailuresToOpen) {
      this.#transition('open', 'consecutive_failures');
    } else if (this.#failureRateExceeded()) {
      this.#transition('open', 'failure_rate');
    }
  }

  #record(failure: boolean): void {
    const rate = this.options.failureRate;
    if (rate === null) return;
    if (this.#window.length < rate.windowSize) {
      this.#window.push(failure);
    } else {
      if (this.#window[this.#windowNext]) this.#windowFailures -= 1;
      this.#window[this.#windowNext] = failure;
      this.#windowNext = (this.#windowNext + 1) % rate.windowSize;
    }
    if (failure) this.#windowFailures += 1;
  }

  #failureRateExceeded(): boolean {
    const rate = this.options.failureRate;
    if (rate === null || this.#window.length < rate.minimumCalls) return false;
    // Integer comparison of failures / calls >= percent / 100, without division.
    return this.#windowFailures * 100 >= rate.thresholdPercent * this.#window.length;
  }

  #coolDown(): void {
    if (this.#state === 'open' && this.#openedAtMs !== null && this.clock.now() >= this.#openedAtMs + this.options.openDurationMs) {
      this.#transition('half_open', 'cool_down_elapsed');
    }
  }

  #transition(to: BreakerState, reason: BreakerTransitionReason): void {
    const from = this.#state;
    const atMs = this.clock.now();
    this.#state = to;
    this.#generation += 1;
    this.#probesInFlight = 0;
    this.#probeSuccesses = 0;
    if (to === 'open') {
      this.#openedAtMs = atMs;
      this.#timesOpened += 1;
    }
    if (to === 'closed') {
      // A fresh start: failures from before the outage say nothing about the recovered provider.
      this.#consecutiveFailures = 0;
      this.#window = [];
      this.#windowNext = 0;
      this.#windowFailures = 0;
    }
    try {
      this.onTransition({ connectorId: this.connectorId, from, to, reason, atMs });
    } catch {
      // An observer (metrics, logging) that throws must not turn a provider's answer into an error.
    }
  }
}
