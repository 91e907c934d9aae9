import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope, PaymentRequestedData, RiskAssessedData } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import {
  decideRisk, managedListHits, recordDecisionInputs, RISK_DECISION_INPUTS_RECORDED,
  type RiskDecisionRecord, type RiskFeatures, type RiskPayment, type RiskScorer,
} from '@clearline/risk-domain';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';
import { RedisFeatureStore } from './redis-feature-store.js';
import { RiskControls } from './risk-controls.js';
import { insertShadowDecision } from './risk-tables.js';

/** How long a payment waits for its features before it is decided without them (fail policy). */
export const FEATURE_TIMEOUT_MS = 250;

/**
 * Scores each requested payment and records `RiskAssessed` in the stream `risk-<paymentId>`; the
 * outbox relay publishes it to risk.events. One assessment per payment: the stream can only be
 * created once, so a repeated request is recognised and skipped (and the feature store counts a
 * payment once even if the append is retried).
 *
 * Beside RiskAssessed it records the inputs of the decision (internal `RiskDecisionInputsRecorded`,
 * for backtests from the event store), and when a candidate runs in shadow, the candidate's decision
 * in risk.shadow_decisions: same transaction, never read by the live path.
 */
@Injectable()
export class RiskAssessor {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly features: RedisFeatureStore,
    private readonly controls: RiskControls,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    if (envelope.type !== 'PaymentRequested') return;
    const streamId = `risk-${envelope.data.paymentId}`;
    if ((await this.store.streamVersion(streamId, { client })) !== 'no_stream') return;
    const payment = riskPaymentOf(envelope.data, this.controls.merchantProfiles.get(envelope.data.merchantId)?.category ?? null);
    const features = await this.featuresOf(payment);
    const scorers = this.controls.scorers();
    const decision = decideRisk({ payment, features }, scorers.live);
    const events = [
      { type: 'RiskAssessed', data: riskAssessedData(envelope.data, decision) },
      { type: RISK_DECISION_INPUTS_RECORDED, data: recordDecisionInputs(payment, features, managedListHits(payment, scorers.live.lists)) },
    ];
    await this.store.appendToStream(streamId, eventsCausedBy(envelope, 'risk', streamId, events, new Date()), { expectedVersion: 'no_stream', client });
    if (scorers.shadow) await this.recordShadow(client, payment, features, decision, scorers.shadow);
    this.logger.info({
      paymentId: payment.paymentId, score: decision.score, decision: decision.outcome, ruleFired: decision.ruleFired?.id ?? null,
      reasons: decision.reasons, failPolicy: decision.failPolicy, correlationId: envelope.metadata.correlationId,
    }, 'payment assessed');
  }

  /** The candidate's decision, kept apart: a failing candidate is logged, never fails the live decision. */
  private async recordShadow(client: PoolClient, payment: RiskPayment, features: RiskFeatures | null, live: RiskDecisionRecord, scorer: RiskScorer): Promise<void> {
    let shadow: RiskDecisionRecord;
    try {
      shadow = decideRisk({ payment, features }, scorer);
    } catch (error) {
      this.logger.error({ err: error, paymentId: payment.paymentId }, 'shadow decision failed');
      return;
    }
    await insertShadowDecision(client, {
      paymentId: payment.paymentId,
      merchantId: payment.merchantId,
      live: { ruleSetVersion: live.ruleSetVersion, modelVersion: live.modelVersion, decision: live.outcome, score: live.score },
      shadow: { ruleSetVersion: shadow.ruleSetVersion, modelVersion: shadow.modelVersion, decision: shadow.outcome, score: shadow.score, reasons: shadow.reasons },
    });
  }

  /** Null when Redis fails or is too slow: the decision then records the fail policy. */
  private async featuresOf(payment: RiskPayment): Promise<RiskFeatures | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no features within ${FEATURE_TIMEOUT_MS} ms`)), FEATURE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.features.observe(payment), timeout]);
    } catch (error) {
      this.logger.warn({ err: error, paymentId: payment.paymentId }, 'risk features unavailable');
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The payment as risk sees it. PaymentRequested carries no card fingerprint or countries yet, so
 * card features are unknown (null) and never match a rule; the merchant category comes from risk's
 * own merchant profiles.
 */
export function riskPaymentOf(data: PaymentRequestedData, merchantCategory: string | null): RiskPayment {
  return {
    paymentId: data.paymentId,
    merchantId: data.merchantId,
    payerAccountId: data.payerAccountId,
    amountMinor: BigInt(data.amount.amountMinor),
    currency: data.amount.currency,
    method: data.method,
    channel: data.channel,
    requestedAtMs: Date.parse(data.requestedAt),
    deviceId: data.riskContext?.deviceId ?? null,
    ipAddress: data.riskContext?.ipAddress ?? null,
    cardFingerprint: null,
    cardCountry: null,
    ipCountry: null,
    merchantCategory,
  };
}

/** At most this many reason codes travel (the contract's bound). */
const MAX_REASONS = 20;

export function riskAssessedData(payment: Pick<PaymentRequestedData, 'paymentId' | 'payerAccountId'>, decision: RiskDecisionRecord): RiskAssessedData {
  return {
    paymentId: payment.paymentId,
    payerAccountId: payment.payerAccountId,
    score: decision.score,
    decision: decision.outcome,
    reasons: decision.reasons.slice(0, MAX_REASONS),
    ruleSetVersion: decision.ruleSetVersion,
    ...(decision.ruleFired ? { ruleFired: decision.ruleFired } : {}),
    ...(decision.modelVersion ? { modelVersion: decision.modelVersion } : {}),
    ...(decision.topFeatures.length > 0 ? { topFeatures: decision.topFeatures } : {}),
    ...(decision.failPolicy ? { failPolicy: decision.failPolicy } : {}),
    ...(decision.reviewTimeoutOutcome ? { reviewTimeoutOutcome: decision.reviewTimeoutOutcome } : {}),
  };
}
