import { MAX_PUBLISH_BATCH } from '@clearline/messaging';
import { DEFAULT_PAYMENT_TIMEOUTS, type PaymentTimeouts } from '@clearline/payments-domain';
import { integerSetting } from '@clearline/service-runtime';

const HOUR_MS = 3_600_000;

/**
 * How long the payment process waits for each answer, read once at boot from PAYMENTS_RISK_TIMEOUT_MS,
 * PAYMENTS_REVIEW_TIMEOUT_MS, PAYMENTS_LEDGER_TIMEOUT_MS, PAYMENTS_LEDGER_MAX_SENDS and PAYMENTS_CONNECTOR_TIMEOUT_MS (defaults:
 * docs/payments.md); a bad value stops the service.
 */
export function paymentTimeouts(environment: NodeJS.ProcessEnv = process.env): PaymentTimeouts {
  return {
    riskAnswerMs: integerSetting(environment, 'PAYMENTS_RISK_TIMEOUT_MS', DEFAULT_PAYMENT_TIMEOUTS.riskAnswerMs, 100, HOUR_MS),
    reviewMs: integerSetting(environment, 'PAYMENTS_REVIEW_TIMEOUT_MS', DEFAULT_PAYMENT_TIMEOUTS.reviewMs, 1_000, 30 * 24 * HOUR_MS),
    ledgerAnswerMs: integerSetting(environment, 'PAYMENTS_LEDGER_TIMEOUT_MS', DEFAULT_PAYMENT_TIMEOUTS.ledgerAnswerMs, 100, HOUR_MS),
    ledgerMaxSends: integerSetting(environment, 'PAYMENTS_LEDGER_MAX_SENDS', DEFAULT_PAYMENT_TIMEOUTS.ledgerMaxSends, 1, 10),
    connectorAnswerMs: integerSetting(environment, 'PAYMENTS_CONNECTOR_TIMEOUT_MS', DEFAULT_PAYMENT_TIMEOUTS.connectorAnswerMs, 1_000, HOUR_MS),
  };
}

export interface TimeoutSchedulerSettings {
  /** Pause between two passes of the timeout scheduler. */
  intervalMs: number;
  /** Timers claimed and published per pass. */
  batchSize: number;
  /** How long a published timer is left to be handled before a scheduler publishes it again. */
  requestQuietMs: number;
}

/** Read once at boot from PAYMENTS_TIMEOUT_INTERVAL_MS, _BATCH_SIZE and _REQUEST_QUIET_MS. */
export function timeoutSchedulerSettings(environment: NodeJS.ProcessEnv = process.env): TimeoutSchedulerSettings {
  return {
    intervalMs: integerSetting(environment, 'PAYMENTS_TIMEOUT_INTERVAL_MS', 1_000, 10, HOUR_MS),
    batchSize: integerSetting(environment, 'PAYMENTS_TIMEOUT_BATCH_SIZE', 100, 1, MAX_PUBLISH_BATCH),
    requestQuietMs: integerSetting(environment, 'PAYMENTS_TIMEOUT_REQUEST_QUIET_MS', 30_000, 0, HOUR_MS),
  };
}

export interface SettlementSettings {
  /**
   * Length of a settlement window: a batch opened in a window is closed by the schedule when the
   * window ends. Windows are aligned to the Unix epoch, so the default (a day) closes at 00:00 UTC.
   */
  intervalMs: number;
  /** Pause between two passes of the settlement scheduler: the interval, at most 10 s. */
  pollIntervalMs: number;
  /** Batches closed per scheduler pass, each in its own transaction. */
  closeBatchSize: number;
}

/** Read once at boot from PAYMENTS_SETTLEMENT_INTERVAL_MS (default a day) and PAYMENTS_SETTLEMENT_CLOSE_BATCH_SIZE. */
export function settlementSettings(environment: NodeJS.ProcessEnv = process.env): SettlementSettings {
  const intervalMs = integerSetting(environment, 'PAYMENTS_SETTLEMENT_INTERVAL_MS', 24 * HOUR_MS, 100, 31 * 24 * HOUR_MS);
  return {
    intervalMs,
    pollIntervalMs: Math.min(intervalMs, 10_000),
    closeBatchSize: integerSetting(environment, 'PAYMENTS_SETTLEMENT_CLOSE_BATCH_SIZE', 50, 1, 1_000),
  };
}

/** The end of the settlement window `at` falls in: when the schedule closes a batch opened at `at`. */
export function settlementWindowEnd(at: Date, intervalMs: number): Date {
  return new Date((Math.floor(at.getTime() / intervalMs) + 1) * intervalMs);
}
