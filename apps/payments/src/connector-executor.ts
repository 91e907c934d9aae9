import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CardVault, cardVaultSecretsForService } from '@clearline/cards';
import {
  ConnectorFailureCodes, connectorMetrics, ConnectorRouter, ConnectorSimulator, type PaymentSource, type RoutedResult,
} from '@clearline/connectors';
import { moneyFromMinor } from '@clearline/money';
import type { CallConnectorData, ConnectorCallCompletedData, ConnectorSourceData } from '@clearline/payments-domain';
import { LOGGER, PeriodicTask, POSTGRES_POOL, REDIS, type Logger } from '@clearline/service-runtime';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { claimConnectorCalls, retryConnectorCallAfter, type ClaimedConnectorCall } from './connector-call-tables.js';
import { connectorSettings, type ConnectorSettings } from './connectors.config.js';
import { PaymentProcessor } from './payment-processor.js';

/** A run that could not record its result is tried again after this long (the connector answers the repeat from its record). */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * Runs the payment process's connector calls (docs/payments.md, "Connectors"). Every
 * `pollIntervalMs` it claims up to `batchSize` calls of `payments.connector_calls` under a lease, runs
 * them at once through the ConnectorRouter (retries, breakers, fallback per rail) over the rails'
 * simulators, with no database transaction open while a provider answers, and records each result on
 * its payment (PaymentProcessor.completeConnectorCall: the attempts and what the process makes of them,
 * in one transaction that also deletes the row).
 *
 * At least once: a crash between the call and the recording leaves the row, whose lease runs out,
 * and the next pass runs the call again under the same idempotency key (its call id), which the
 * provider answers as the first time. Cards reach the simulators as vault tokens and are detokenized
 * there, at the last moment, through the same CardVault (and secrets) the gateway tokenised them into.
 */
@Injectable()
export class ConnectorExecutor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly settings: ConnectorSettings = connectorSettings();
  private readonly router: ConnectorRouter;
  private readonly shutdown = new AbortController();
  // A failed pass leaves its calls claimed; they run again when their lease ends.
  private readonly task = new PeriodicTask({
    intervalMs: this.settings.pollIntervalMs, pass: () => this.runDueCalls(), logger: this.logger, failureMessage: 'connector pass failed; trying again',
  });

  constructor(
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    @Inject(REDIS) redis: Redis,
    private readonly processor: PaymentProcessor,
    registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const secrets = cardVaultSecretsForService(process.env);
    if (secrets.source === 'development_defaults') {
      logger.warn('card vault: CARD_VAULT_KEYS, CARD_VAULT_ACTIVE_KEY_ID and CARD_FINGERPRINT_KEY are not set; using the public development keys (test cards only)');
    }
    const vault = new CardVault(redis, secrets);
    const metrics = connectorMetrics(registry);
    this.router = new ConnectorRouter({
      connectors: Object.entries(this.settings.connectors).map(([id, spec]) => new ConnectorSimulator({
        id, rail: spec.rail, seed: spec.seed, outages: spec.outages,
        ...(spec.latency ? { latency: spec.latency } : {}),
        ...(spec.failureRate !== undefined ? { failureRate: spec.failureRate } : {}),
        ...(spec.lostReplyRate !== undefined ? { lostReplyRate: spec.lostReplyRate } : {}),
        ...(spec.rail === 'card' ? { detokenizer: vault } : {}),
        // Instances share payments' tables, so a capture may run on another instance than its authorization did.
        trustTwinAuthorizations: true,
      })),
      routes: this.settings.routes,
      attemptTimeoutMs: this.settings.attemptTimeoutMs,
      budgetMs: this.settings.budgetMs,
      onAttempt: metrics.onAttempt,
      onBreakerTransition: (transition) => {
        metrics.onBreakerTransition(transition);
        this.logger.warn({ connectorId: transition.connectorId, from: transition.from, to: transition.to, reason: transition.reason }, 'connector breaker changed state');
      },
    });
    metrics.watch(this.router);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    await this.task.stop();
  }

  /** One pass: claims, runs and records up to `batchSize` calls. Exposed for tests. */
  async runDueCalls(now: Date = new Date()): Promise<number> {
    const claimed = await claimConnectorCalls(this.pool, now, this.settings.leaseMs, this.settings.batchSize);
    await Promise.all(claimed.map((call) => this.runOne(call)));
    return claimed.length;
  }

  private async runOne(claimed: ClaimedConnectorCall): Promise<void> {
    const { call } = claimed;
    const log = { paymentId: call.paymentId, callId: call.callId, operation: call.operation, run: claimed.runs, correlationId: claimed.correlationId };
    let routed: RoutedResult;
    try {
      routed = await this.route(call);
    } catch (error) {
      this.logger.error({ ...log, err: error }, 'connector call threw; it runs again');
      await retryConnectorCallAfter(this.pool, call.callId, new Date(), RETRY_AFTER_FAILURE_MS).catch(() => undefined);
      return;
    }
    // Cut short by shutdown: no answer to record; the next instance runs the call again.
    if (routed.result.outcome === 'failed' && routed.result.code === ConnectorFailureCodes.aborted) return;
    try {
      await this.processor.completeConnectorCall(this.pool, claimed, completedOf(call, routed));
      this.logger.info({ ...log, connectorId: routed.connectorId, outcome: routed.result.outcome, attempts: routed.attempts.length }, 'connector call recorded');
    } catch (error) {
      this.logger.error({ ...log, err: error }, 'connector call result not recorded; it runs again');
      await retryConnectorCallAfter(this.pool, call.callId, new Date(), RETRY_AFTER_FAILURE_MS).catch(() => undefined);
    }
  }

  private route(call: CallConnectorData): Promise<RoutedResult> {
    const options = { signal: this.shutdown.signal };
    const common = { idempotencyKey: call.callId, paymentId: call.paymentId };
    const amount = call.amount === undefined ? undefined : moneyFromMinor(call.amount.amountMinor, call.amount.currency);
    switch (call.operation) {
      case 'authorize':
        return this.router.authorize({ ...common, amount: required(amount, call), source: sourceOf(required(call.source, call)) }, options);
      case 'capture':
        return this.router.capture(required(call.connectorId, call), { ...common, authorizationReference: required(call.authorizationReference, call), amount: required(amount, call) }, options);
      case 'void':
        return this.router.void(required(call.connectorId, call), { ...common, authorizationReference: required(call.authorizationReference, call) }, options);
      case 'refund':
        return this.router.refund(required(call.connectorId, call), { ...common, authorizationReference: required(call.authorizationReference, call), amount: required(amount, call) }, options);
      default: {
        const unreachable: never = call.operation;
        throw new Error(`unknown connector operation ${String(unreachable)}`);
      }
    }
  }
}

/** The call as the process asked for it lacks a field its operation needs: a programming error in the process. */
function required<T>(value: T | undefined, call: CallConnectorData): T {
  if (value === undefined) throw new Error(`connector call ${call.callId} (${call.operation}) lacks a field its operation needs`);
  return value;
}

function sourceOf(source: ConnectorSourceData): PaymentSource {
  switch (source.rail) {
    case 'card':
      return { rail: 'card', token: source.token };
    case 'e_wallet':
      return { rail: 'e_wallet', walletId: source.walletId };
    case 'mobile_money':
      return { rail: 'mobile_money', msisdn: source.phoneNumber };
    default: {
      const unreachable: never = source;
      return unreachable;
    }
  }
}

function completedOf(call: CallConnectorData, routed: RoutedResult): ConnectorCallCompletedData {
  return {
    callId: call.callId,
    operation: call.operation,
    ...(call.refundId !== undefined ? { refundId: call.refundId } : {}),
    connectorId: routed.connectorId,
    result: { ...routed.result },
    attempts: routed.attempts.map((attempt) => ({
      connectorId: attempt.connectorId, attempt: attempt.attempt, latencyMs: attempt.latencyMs, outcome: attempt.outcome,
      code: attempt.code, retryable: attempt.retryable, reference: attempt.reference,
    })),
  };
}
