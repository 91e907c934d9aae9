import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import { assessRisk } from '@clearline/risk-domain';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';
import { VelocityCounters } from './velocity-counters.js';

/**
 * Scores each requested payment and records `RiskAssessed` in the stream `risk-<paymentId>`; the
 * outbox relay publishes it to risk.events. One assessment per payment: the stream can only be
 * created once, so a repeated request is recognised and skipped.
 */
@Injectable()
export class RiskAssessor {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly velocity: VelocityCounters,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    if (envelope.type !== 'PaymentRequested') return;
    const payment = envelope.data;
    const streamId = `risk-${payment.paymentId}`;
    if ((await this.store.streamVersion(streamId, { client })) !== 'no_stream') return;
    const velocity = await this.velocity.recordPayerPayment(payment.payerAccountId, payment.paymentId, Date.parse(payment.requestedAt));
    const assessment = assessRisk({
      amountMinor: BigInt(payment.amount.amountMinor),
      currency: payment.amount.currency,
      payerPaymentsLastMinute: velocity.lastMinute,
      payerPaymentsLastHour: velocity.lastHour,
    });
    const assessed = { type: 'RiskAssessed', data: { paymentId: payment.paymentId, payerAccountId: payment.payerAccountId, ...assessment } };
    await this.store.appendToStream(streamId, eventsCausedBy(envelope, 'risk', streamId, [assessed], new Date()), { expectedVersion: 'no_stream', client });
    this.logger.info({ paymentId: payment.paymentId, score: assessment.score, decision: assessment.decision, reasons: assessment.reasons, correlationId: envelope.metadata.correlationId }, 'payment assessed');
  }
}
