// Proves the kafkajs request-queue fix is installed by createKafka and behaves as intended: no timer
// for an idle, unthrottled connection (the 1 ms busy loop), a short one when a request waits, and one
// until the throttle ends when the broker throttles.
import { createRequire } from 'node:module';
import { createKafka } from './kafka-settings.js';
import { patchKafkajsRequestQueue } from './kafkajs-request-queue.patch.js';

type Queue = { throttledUntil: number; throttleCheckTimeoutId: NodeJS.Timeout | null; pending: unknown[]; checkPendingRequests: () => void };
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests(this: Queue): void } };

function queue(overrides: Partial<Queue>): Queue {
  return { throttledUntil: -1, throttleCheckTimeoutId: null, pending: [], checkPendingRequests: () => undefined, ...overrides };
}

describe('patchKafkajsRequestQueue', () => {
  beforeAll(() => {
    createKafka({ clientId: 'patch-spec', brokers: ['127.0.0.1:9092'] });
  });

  it('is installed by createKafka on kafkajs 2.2.4', () => {
    expect(patchKafkajsRequestQueue()).toBe('patched');
    expect(RequestQueue.prototype.scheduleCheckPendingRequests.toString()).toContain('untilUnthrottledMs');
  });

  it('arms no timer for an idle, unthrottled connection', () => {
    const idle = queue({});
    RequestQueue.prototype.scheduleCheckPendingRequests.call(idle);
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('checks again soon when a request is waiting', async () => {
    let checks = 0;
    const waiting = queue({ pending: [{}], checkPendingRequests: () => (checks += 1) });
    RequestQueue.prototype.scheduleCheckPendingRequests.call(waiting);
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(checks).toBe(1);
    expect(waiting.throttleCheckTimeoutId).toBeNull();
  });

  it('waits for the end of a throttle', () => {
    const throttled = queue({ throttledUntil: Date.now() + 60_000 });
    RequestQueue.prototype.scheduleCheckPendingRequests.call(throttled);
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(throttled.throttleCheckTimeoutId ?? undefined);
  });
});
