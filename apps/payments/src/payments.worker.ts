import { Injectable } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import type { MessageHandler } from '@clearline/messaging';
import { MessagingFactory, ServiceWorker } from '@clearline/service-runtime';
import { PaymentProcessor } from './payment-processor.js';

/**
 * Two consumer groups: channel commands, and the risk and ledger events the payment process waits
 * for; kept apart so a burst of new payments never queues behind the answers that finish old ones.
 */
@Injectable()
export class PaymentsWorker extends ServiceWorker {
  constructor(processor: PaymentProcessor, messaging: MessagingFactory) {
    const handle: MessageHandler = (envelope, context) => processor.handle(envelope, context.client);
    super(
      [
        messaging.consumer({ groupId: 'payments-commands', topics: [Topics.paymentsCommands], handle }),
        messaging.consumer({ groupId: 'payments-process', topics: [Topics.riskEvents, Topics.ledgerEvents], handle }),
      ],
      [messaging.relay({ name: 'payments', categories: ['payment'] })],
    );
  }
}
