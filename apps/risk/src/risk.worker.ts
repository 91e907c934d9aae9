import { Injectable } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { DATABASE_BOUND_GROUP_TIMING } from '@clearline/messaging';
import { MessagingFactory, ServiceWorker } from '@clearline/service-runtime';
import { RiskAssessor } from './risk-assessor.js';

/**
 * How risk consumes payments.events (the benchmark uses the same). 'chunk': a chunk's payments are
 * assessed at once on the chunk's connection, so their Redis scripts overlap and their appends
 * pipeline, instead of one round trip after another (a payment waits for the whole chunk, not for
 * the ones before it). Safe because an assessment is idempotent per payment: the feature store
 * counts a payment once, and a second append to `risk-<paymentId>` fails, rolls the chunk back and
 * is then skipped. Three partitions at a time use the topic's partitions in parallel. Handlers wait
 * only on Redis (bounded by the fail policy's deadline) and PostgreSQL: a crashed risk's partitions
 * move after 10 s.
 */
export const RISK_CONSUMER_OPTIONS = { handlerConcurrency: 'chunk', partitionsConsumedConcurrently: 3, ...DATABASE_BOUND_GROUP_TIMING } as const;

/** Hears requested payments, scores them, and publishes its assessments. */
@Injectable()
export class RiskWorker extends ServiceWorker {
  constructor(assessor: RiskAssessor, messaging: MessagingFactory) {
    super(
      [messaging.consumer({
        groupId: 'risk', topics: [Topics.paymentsEvents], ...RISK_CONSUMER_OPTIONS,
        handle: (envelope, context) => assessor.handle(envelope, context.client),
      })],
      [messaging.relay({ name: 'risk', categories: ['risk'] })],
    );
  }
}
