import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 keeps every broker connection polling its (usually empty) request queue once per
 * millisecond: `scheduleCheckPendingRequests` computes `throttledUntil - Date.now()`, which is
 * negative when the connection is not throttled, and re-arms a timer with it after every check. That
 * burns about 4 % of a core per connected client at rest, and on Node 24 it also prints a
 * TimeoutNegativeWarning (kafkajs issues #1704 and #1751, fix proposed in pull requests #1755 and
 * #1768, unreleased). The replacement below is that fix: arm the timer only when a request is
 * waiting, or until a throttle ends; `push()` schedules a check whenever it queues a request, so
 * nothing waits for a poll that no longer happens.
 *
 * Applied only to the exact method it was written against (recognised by its source); any other
 * kafkajs version is left untouched.
 */
interface RequestQueuePrototype {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const BUGGY_SOURCE_MARKERS = ['let scheduleAt = this.throttledUntil - Date.now()', 'this.throttleCheckTimeoutId = setTimeout('];
let outcome: 'patched' | 'not applicable' | undefined;

export function patchKafkajsRequestQueue(): 'patched' | 'not applicable' {
  if (outcome !== undefined) return outcome;
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueuePrototype };
  const source = RequestQueue.prototype.scheduleCheckPendingRequests.toString();
  if (!BUGGY_SOURCE_MARKERS.every((marker) => source.includes(marker))) {
    outcome = 'not applicable';
    return outcome;
  }
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueuePrototype): void {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottledMs = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && untilUnthrottledMs <= 0) return;
    const delayMs = untilUnthrottledMs > 0 ? untilUnthrottledMs : CHECK_PENDING_REQUESTS_INTERVAL_MS;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delayMs);
  };
  outcome = 'patched';
  return outcome;
}
