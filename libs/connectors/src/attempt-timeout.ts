// One bounded call of a connector: it answers within the attempt timeout or counts as a retryable
// `connector_timeout` (the provider may still have acted on it, which is why every retry reuses the
// idempotency key). An adapter that throws is an unknown outcome too, and never leaks its message.
import type { Clock } from './clock.js';
import {
  ConnectorFailureCodes,
  failed,
  invokeConnector,
  type Connector,
  type ConnectorOperation,
  type ConnectorRequests,
  type ConnectorResult,
} from './connector.js';

/** A provider that needs more than a minute per call is down, whatever it says. */
export const MAX_ATTEMPT_TIMEOUT_MS = 60_000;

export interface TimedResult {
  readonly result: ConnectorResult;
  readonly latencyMs: number;
}

export function assertValidAttemptTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_ATTEMPT_TIMEOUT_MS) {
    throw new RangeError(`attemptTimeoutMs must be an integer in 1..${MAX_ATTEMPT_TIMEOUT_MS}, got ${timeoutMs}`);
  }
}

type Race = { kind: 'answer'; result: ConnectorResult } | { kind: 'threw' } | { kind: 'timeout' } | { kind: 'cancelled' };

export async function callWithTimeout<O extends ConnectorOperation>(
  connector: Connector,
  operation: O,
  request: ConnectorRequests[O],
  timeoutMs: number,
  clock: Clock,
  callerSignal?: AbortSignal,
): Promise<TimedResult> {
  const startedAtMs = clock.now();
  const controller = new AbortController();
  const forwardAbort = (): void => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', forwardAbort, { once: true });

  let call: Promise<Race>;
  try {
    call = invokeConnector(connector, operation, request, { signal: controller.signal }).then(
      (result): Race => ({ kind: 'answer', result }),
      (): Race => ({ kind: 'threw' }),
    );
  } catch {
    call = Promise.resolve({ kind: 'threw' });
  }
  const deadline = clock.sleep(timeoutMs, controller.signal).then(
    (): Race => ({ kind: 'timeout' }),
    (): Race => ({ kind: 'cancelled' }),
  );

  const first = await Promise.race([call, deadline]);
  // Cancel the loser: the timer if the connector answered, the connector's wait if the timer fired.
  controller.abort(new Error(`connector ${connector.id} ${operation} attempt settled`));
  callerSignal?.removeEventListener('abort', forwardAbort);
  const latencyMs = clock.now() - startedAtMs;

  if (callerSignal?.aborted) return { result: failed(ConnectorFailureCodes.aborted, true), latencyMs };
  switch (first.kind) {
    case 'answer':
      return { result: first.result, latencyMs };
    case 'timeout':
      return { result: failed(ConnectorFailureCodes.timeout, true), latencyMs };
    case 'threw':
    case 'cancelled':
      return { result: failed(ConnectorFailureCodes.adapterError, true), latencyMs };
    default: {
      const unreachable: never = first;
      throw new Error(`unexpected race result ${JSON.stringify(unreachable)}`);
    }
  }
}
