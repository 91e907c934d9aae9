import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope, PaymentRequestedData, RiskAssessedData } from '@clearline/contracts';
import { PostgresEventStore, WrongExpectedVersionError, type NewEvent } from '@clearline/event-store';
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
 * Bound on the payments assessed together. The consumer's chunks (at most 1,000 messages) stay
 * below it; a larger burst of calls in one tick is cut into batches of this size.
 */
export const MAX_ASSESSMENTS_PER_BATCH = 1_000;

interface PendingAssessment {
  envelope: ContractEnvelope<'PaymentRequested'>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Decided {
  pending: PendingAssessment;
  payment: RiskPayment;
  features: RiskFeatures | null;
  decision: RiskDecisionRecord;
  streamId: string;
  events: NewEvent[];
}

/**
 * Scores each requested payment and records `RiskAssessed` in the stream `risk-<paymentId>`; the
 * outbox relay publishes it to risk.events. One assessment per payment: the stream can only be
 * created once (expected version 'no_stream'), so a repeated request for an assessed payment is
 * recognised by its append and skipped (and the feature store counts a payment once even if the
 * append is retried).
 *
 * Beside RiskAssessed it records the inputs of the decision (internal `RiskDecisionInputsRecorded`,
 * for backtests from the event store), and when a candidate runs in shadow, the candidate's decision
 * in risk.shadow_decisions: same transaction, never read by the live path.
 *
 * Batching: the consumer starts every handler of a chunk in the same tick on the same connection
 * (RISK_CONSUMER_OPTIONS). The payments handed over in one tick on one connection are assessed
 * together: their feature scripts go to Redis in one pipeline, and their events are appended in one
 * statement, instead of a streamVersion read and an append per payment, one round trip after
 * another on the chunk's connection. Each payment still gets its own answer: features it did not get
 * in time are decided by its merchant's fail policy, and each handler's promise settles with its own
 * payment.
 */
@Injectable()
export class RiskAssessor {
  private readonly gathering = new Map<PoolClient, PendingAssessment[]>();

  constructor(
    private readonly store: PostgresEventStore,
    private readonly features: RedisFeatureStore,
    private readonly controls: RiskControls,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    if (envelope.type !== 'PaymentRequested') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let batch = this.gathering.get(client);
      if (batch === undefined || batch.length >= MAX_ASSESSMENTS_PER_BATCH) {
        const started: PendingAssessment[] = [];
        batch = started;
        this.gathering.set(client, started);
        // Runs once the caller's synchronous loop has handed over every payment of its chunk.
        queueMicrotask(() => {
          if (this.gathering.get(client) === started) this.gathering.delete(client);
          this.assessBatch(started, client).catch((error: unknown) => {
            for (const pending of started) pending.reject(error);
          });
        });
      }
      batch.push({ envelope: envelope as ContractEnvelope<'PaymentRequested'>, resolve, reject });
    });
  }

  private async assessBatch(batch: readonly PendingAssessment[], client: PoolClient): Promise<void> {
    const scorers = this.controls.scorers();
    const payments = batch.map(({ envelope }) => riskPaymentOf(envelope.data, this.controls.merchantProfiles.get(envelope.data.merchantId)?.category ?? null));
    const features = await this.featuresOf(payments);
    const decided: Decided[] = batch.map((pending, index) => {
      const payment = payments[index]!;
      const decision = decideRisk({ payment, features: features[index]! }, scorers.live);
      const streamId = `risk-${payment.paymentId}`;
      const events = [
        { type: 'RiskAssessed', data: riskAssessedData(pending.envelope.data, decision) },
        { type: RISK_DECISION_INPUTS_RECORDED, data: recordDecisionInputs(payment, features[index]!, managedListHits(payment, scorers.live.lists)) },
      ];
      return { pending, payment, features: features[index]!, decision, streamId, events: eventsCausedBy(pending.envelope, 'risk', streamId, events, new Date()) };
    });
    const appended = await this.appendNew(decided, client);
    for (const entry of decided) {
      if (!appended.has(entry)) {
        entry.pending.resolve();
        continue;
      }
      try {
        if (scorers.shadow) await this.recordShadow(client, entry.payment, entry.features, entry.decision, scorers.shadow);
        const { decision, payment } = entry;
        this.logger.info({
          paymentId: payment.paymentId, score: decision.score, decision: decision.outcome, ruleFired: decision.ruleFired?.id ?? null,
          reasons: decision.reasons, failPolicy: decision.failPolicy, correlationId: entry.pending.envelope.metadata.correlationId,
        }, 'payment assessed');
        entry.pending.resolve();
      } catch (error) {
        entry.pending.reject(error);
      }
    }
  }

  /**
   * Appends every decision whose payment has no assessment yet, in one statement, and returns those
   * appended. A payment already assessed (its stream exists: a repeated request, or the same payment
   * twice in the batch) is left out; its append is refused by the store without failing the
   * transaction (the conflict is found before any event is written). After a refusal the versions
   * of all the streams are read in one statement and every assessed one is left out at once, so a
   * chunk of redelivered requests costs three statements, not one append per repeat; a payment
   * assessed meanwhile by another instance only makes a further round, each removing at least one.
   */
  private async appendNew(decided: readonly Decided[], client: PoolClient): Promise<Set<Decided>> {
    const firstPerStream = new Map<string, Decided>();
    for (const entry of decided) if (!firstPerStream.has(entry.streamId)) firstPerStream.set(entry.streamId, entry);
    let pending = [...firstPerStream.values()];
    while (pending.length > 0) {
      try {
        await this.store.appendToStreams(pending.map((entry) => ({ streamId: entry.streamId, events: entry.events, expectedVersion: 'no_stream' as const })), { client });
        return new Set(pending);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const versions = await this.store.streamVersions(pending.map((entry) => entry.streamId), { client });
        const remaining = pending.filter((entry) => entry.streamId !== error.streamId && versions.get(entry.streamId) === 'no_stream');
        if (remaining.length === pending.length) throw error;
        pending = remaining;
      }
    }
    return new Set();
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

  /**
   * Each payment's features, or null when Redis fails or is too slow for it: its decision then
   * records the fail policy. The payments' scripts go to Redis in one pipeline, in order (two
   * payments of one payer see each other as they would one after the other); one deadline covers
   * them all, and a payment answered before it keeps its features even if a later one is not.
   */
  private async featuresOf(payments: readonly RiskPayment[]): Promise<(RiskFeatures | null)[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no features within ${FEATURE_TIMEOUT_MS} ms`)), FEATURE_TIMEOUT_MS);
    });
    timeout.catch(() => undefined);
    try {
      let answers: Promise<RiskFeatures>[];
      try {
        answers = this.features.observeAll(payments);
      } catch (error) {
        answers = payments.map(() => Promise.reject(error));
      }
      return await Promise.all(answers.map(async (answer, index) => {
        try {
          return await Promise.race([answer, timeout]);
        } catch (error) {
          this.logger.warn({ err: error, paymentId: payments[index]!.paymentId }, 'risk features unavailable');
          return null;
        }
      }));
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
