// Routing over resilient connectors. An authorization may go to any connector of its rail, so it
// walks the rail's ordered list and falls back to the next connector when one is open or fails
// retryably. Capture, void and refund belong to the connector that holds the authorization, so
// they go to that one only (with its retries and breaker) and never fall back.
import type { BreakerSnapshot, BreakerTransition, CircuitBreakerOptions } from './circuit-breaker.js';
import { systemClock, type Clock, type RandomSource } from './clock.js';
import {
  CONNECTOR_RAILS,
  ConnectorFailureCodes,
  failed,
  type AuthorizeRequest,
  type CaptureRequest,
  type Connector,
  type ConnectorOperation,
  type ConnectorRail,
  type ConnectorRequests,
  type ConnectorResult,
  type RefundRequest,
  type VoidRequest,
} from './connector.js';
import { ResilientConnector, type ConnectorAttempt, type ResilienceOptions } from './resilient-connector.js';
import type { RetryPolicy } from './retry-policy.js';

/** Connector ids per rail, in order of preference. */
export type ConnectorRoutes = Readonly<Partial<Record<ConnectorRail, readonly string[]>>>;

export interface ConnectorRouterOptions {
  readonly connectors: readonly Connector[];
  readonly routes: ConnectorRoutes;
  /** Defaults for every connector. */
  readonly attemptTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly breaker?: Partial<CircuitBreakerOptions>;
  readonly maxInFlight?: number;
  /** Per connector id, replacing the defaults above field by field. */
  readonly overrides?: Readonly<Record<string, Partial<ResilienceOptions>>>;
  /** Wall-clock budget of one routed call, all attempts, backoffs and fallbacks included. */
  readonly budgetMs?: number;
  readonly clock?: Clock;
  /** Jitter source; seed it in tests. */
  readonly random?: RandomSource;
  readonly onAttempt?: (attempt: ConnectorAttempt) => void;
  readonly onBreakerTransition?: (transition: BreakerTransition) => void;
}

export interface RouteCallOptions {
  /** Aborts the call (shutdown): no further attempt starts and the current one is cancelled. */
  readonly signal?: AbortSignal;
}

export interface RoutedResult {
  readonly result: ConnectorResult;
  /** The connector that gave `result`; null when none answered finally. Capture, void and refund go there. */
  readonly connectorId: string | null;
  /** Every attempt and skipped connector, in order: one `ConnectorAttempt*` event each. */
  readonly attempts: readonly ConnectorAttempt[];
}

/** Room for a few 2-second attempts and a fallback; this budget, not the attempt counts, bounds the worst case. */
export const DEFAULT_ROUTE_BUDGET_MS = 10_000;
const MAX_ROUTE_BUDGET_MS = 120_000;
const MAX_CONNECTORS_PER_ROUTE = 10;

export class ConnectorRouter {
  readonly #connectors = new Map<string, ResilientConnector>();
  readonly #routes = new Map<ConnectorRail, readonly string[]>();
  readonly #budgetMs: number;
  readonly #clock: Clock;
  readonly #onAttempt: ((attempt: ConnectorAttempt) => void) | undefined;

  constructor(options: ConnectorRouterOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#budgetMs = options.budgetMs ?? DEFAULT_ROUTE_BUDGET_MS;
    if (!Number.isInteger(this.#budgetMs) || this.#budgetMs < 1 || this.#budgetMs > MAX_ROUTE_BUDGET_MS) {
      throw new RangeError(`router budgetMs must be an integer in 1..${MAX_ROUTE_BUDGET_MS}, got ${this.#budgetMs}`);
    }
    this.#onAttempt = options.onAttempt;
    const defaults: Partial<ResilienceOptions> = withoutUndefined({
      attemptTimeoutMs: options.attemptTimeoutMs,
      retry: options.retry,
      breaker: options.breaker,
      maxInFlight: options.maxInFlight,
    });
    const dependencies = {
      clock: this.#clock,
      random: options.random ?? Math.random,
      ...(options.onBreakerTransition ? { onBreakerTransition: options.onBreakerTransition } : {}),
    };
    for (const connector of options.connectors) {
      if (this.#connectors.has(connector.id)) throw new Error(`duplicate connector id '${connector.id}'`);
      const resilience = { ...defaults, ...options.overrides?.[connector.id] };
      this.#connectors.set(connector.id, new ResilientConnector(connector, resilience, dependencies));
    }
    for (const id of Object.keys(options.overrides ?? {})) {
      if (!this.#connectors.has(id)) throw new Error(`overrides name connector '${id}', which is not configured`);
    }
    this.#setRoutes(options.routes);
  }

  /** Authorizes on the first connector of the source's rail that answers finally, falling back in order. */
  async authorize(request: AuthorizeRequest, options: RouteCallOptions = {}): Promise<RoutedResult> {
    const route = this.#routes.get(request.source.rail) ?? [];
    if (route.length === 0) return { result: failed(ConnectorFailureCodes.noRoute, false), connectorId: null, attempts: [] };
    const deadlineMs = this.#clock.now() + this.#budgetMs;
    const attempts: ConnectorAttempt[] = [];
    for (const connectorId of route) {
      const outcome = await this.#connectors.get(connectorId)!.execute('authorize', request, this.#context(deadlineMs, options));
      attempts.push(...outcome.attempts);
      const { result } = outcome;
      if (!(result.outcome === 'failed' && result.retryable)) return { result, connectorId, attempts };
      if (result.code === ConnectorFailureCodes.aborted) return { result, connectorId: null, attempts };
      if (this.#clock.now() >= deadlineMs) break;
    }
    return { result: failed(ConnectorFailureCodes.unavailable, true), connectorId: null, attempts };
  }

  capture(connectorId: string, request: CaptureRequest, options: RouteCallOptions = {}): Promise<RoutedResult> {
    return this.#onConnector(connectorId, 'capture', request, options);
  }

  void(connectorId: string, request: VoidRequest, options: RouteCallOptions = {}): Promise<RoutedResult> {
    return this.#onConnector(connectorId, 'void', request, options);
  }

  refund(connectorId: string, request: RefundRequest, options: RouteCallOptions = {}): Promise<RoutedResult> {
    return this.#onConnector(connectorId, 'refund', request, options);
  }

  /** One snapshot per connector, for a gauge (`stateValue`) or a health endpoint. */
  breakerSnapshots(): BreakerSnapshot[] {
    return [...this.#connectors.values()].map((connector) => connector.breaker.snapshot());
  }

  /** Connector ids per rail, in order of preference. */
  routes(): ConnectorRoutes {
    return Object.fromEntries(this.#routes);
  }

  async #onConnector<O extends Exclude<ConnectorOperation, 'authorize'>>(
    connectorId: string,
    operation: O,
    request: ConnectorRequests[O],
    options: RouteCallOptions,
  ): Promise<RoutedResult> {
    const connector = this.#connectors.get(connectorId);
    if (connector === undefined) return { result: failed(ConnectorFailureCodes.noRoute, false), connectorId: null, attempts: [] };
    const { result, attempts } = await connector.execute(operation, request, this.#context(this.#clock.now() + this.#budgetMs, options));
    return { result, connectorId, attempts };
  }

  #context(deadlineMs: number, options: RouteCallOptions) {
    return {
      deadlineMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(this.#onAttempt ? { onAttempt: this.#onAttempt } : {}),
    };
  }

  #setRoutes(routes: ConnectorRoutes): void {
    for (const [rail, ids] of Object.entries(routes) as [string, readonly string[] | undefined][]) {
      if (!(CONNECTOR_RAILS as readonly string[]).includes(rail)) throw new Error(`route for unknown rail '${rail}'`);
      const list = ids ?? [];
      if (list.length > MAX_CONNECTORS_PER_ROUTE) throw new RangeError(`route '${rail}' lists ${list.length} connectors; at most ${MAX_CONNECTORS_PER_ROUTE}`);
      if (new Set(list).size !== list.length) throw new Error(`route '${rail}' lists a connector twice`);
      for (const id of list) {
        const connector = this.#connectors.get(id);
        if (connector === undefined) throw new Error(`route '${rail}' names connector '${id}', which is not configured`);
        if (connector.connector.rail !== rail) throw new Error(`route '${rail}' names connector '${id}' of rail '${connector.connector.rail}'`);
      }
      this.#routes.set(rail as ConnectorRail, [...list]);
    }
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
