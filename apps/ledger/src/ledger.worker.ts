import { Injectable } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { MessagingFactory, ServiceWorker } from '@clearline/service-runtime';
import { LedgerCommandHandler, REPLY_CATEGORY } from './ledger-command.handler.js';

/** Consumes ledger commands; publishes the account, transfer and hold streams and the replies to refused commands. */
@Injectable()
export class LedgerWorker extends ServiceWorker {
  constructor(handler: LedgerCommandHandler, messaging: MessagingFactory) {
    super(
      [messaging.consumer({
        groupId: 'ledger',
        topics: [Topics.ledgerCommands],
        handle: async (envelope, context) => {
          await handler.handle(envelope, context.client);
        },
      })],
      [messaging.relay({ name: 'ledger', categories: ['account', 'transfer', 'hold', REPLY_CATEGORY] })],
    );
  }
}
