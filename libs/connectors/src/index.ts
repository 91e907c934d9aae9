// Public API of @clearline/connectors: the connector interface for external rails, their
// simulators and the resilience around them (timeouts, retries, circuit breakers, routing). Card
// validation, tokens and the vault live in @clearline/cards. Nothing else is exported.
export {
  approved,
  CONNECTOR_OPERATIONS,
  CONNECTOR_RAILS,
  ConnectorFailureCodes,
  declined,
  failed,
  type AuthorizeRequest,
  type CaptureRequest,
  type Connector,
  type ConnectorCallOptions,
  type ConnectorOperation,
  type ConnectorRail,
  type ConnectorRequests,
  type ConnectorResult,
  type PaymentSource,
  type RefundRequest,
  type VoidRequest,
} from './connector.js';
export { systemClock, type Clock, type RandomSource } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { derivedRandom, seededRandom } from './seeded-random.js';
export { callWithTimeout, MAX_ATTEMPT_TIMEOUT_MS, type TimedResult } from './attempt-timeout.js';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, resolveRetryPolicy, type RetryPolicy } from './retry-policy.js';
export {
  BREAKER_STATE_VALUES,
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  resolveBreakerOptions,
  type BreakerPermit,
  type BreakerSnapshot,
  type BreakerState,
  type BreakerTransition,
  type BreakerTransitionReason,
  type CircuitBreakerOptions,
  type FailureRateThreshold,
} from './circuit-breaker.js';
export {
  DEFAULT_RESILIENCE_OPTIONS,
  ResilientConnector,
  type ConnectorAttempt,
  type ExecuteContext,
  type ExecuteResult,
  type ResilienceOptions,
  type ResilientConnectorDependencies,
} from './resilient-connector.js';
export {
  ConnectorRouter,
  DEFAULT_ROUTE_BUDGET_MS,
  type ConnectorRouterOptions,
  type ConnectorRoutes,
  type RouteCallOptions,
  type RoutedResult,
} from './connector-router.js';
export {
  ConnectorSimulator,
  DEFAULT_AMOUNT_SUFFIX_RULES,
  DEFAULT_TEST_CARDS,
  SimulatorCodes,
  type ConnectorSimulatorOptions,
  type LatencyProfile,
  type OutageWindow,
  type SimulatedBehaviour,
} from './connector-simulator.js';
export { ConnectorMetricNames, connectorMetrics, type ConnectorMetrics } from './connectors.metrics.js';
