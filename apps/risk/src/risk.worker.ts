import { Injectable } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { MessagingFactory, ServiceWorker } from '@clearline/service-runtime';
import { RiskAssessor } from './risk-assessor.js';

/** Hears requested payments, scores them, and publishes its assessments. */
@Injectable()
export class RiskWorker extends ServiceWorker {
  constructor(assessor: RiskAssessor, messaging: MessagingFactory) {
    super(
      [messaging.consumer({ groupId: 'risk', topics: [Topics.paymentsEvents], handle: (envelope, context) => assessor.handle(envelope, context.client) })],
      [messaging.relay({ name: 'risk', categories: ['risk'] })],
    );
  }
}
