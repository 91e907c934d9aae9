import { MAX_PUBLISH_BATCH } from '@clearline/messaging';
import { integerSetting } from '@clearline/service-runtime';

export interface HoldExpirySettings {
  /** Pause between two passes of the expiry scheduler. */
  intervalMs: number;
  /** Holds claimed and published per pass. */
  batchSize: number;
  /** How long a requested expiry is left to be decided before a scheduler asks again. */
  requestQuietMs: number;
}

/** Read once at boot from LEDGER_HOLD_EXPIRY_INTERVAL_MS, _BATCH_SIZE and _REQUEST_QUIET_MS; a bad value stops the service. */
export function holdExpirySettings(environment: NodeJS.ProcessEnv = process.env): HoldExpirySettings {
  return {
    intervalMs: integerSetting(environment, 'LEDGER_HOLD_EXPIRY_INTERVAL_MS', 5_000, 10, 3_600_000),
    batchSize: integerSetting(environment, 'LEDGER_HOLD_EXPIRY_BATCH_SIZE', 100, 1, MAX_PUBLISH_BATCH),
    requestQuietMs: integerSetting(environment, 'LEDGER_HOLD_EXPIRY_REQUEST_QUIET_MS', 30_000, 0, 3_600_000),
  };
}
