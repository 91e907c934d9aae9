import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope } from '@clearline/contracts';
import { LedgerDomainError, type LedgerCommand, type LedgerResult } from '@clearline/ledger-domain';
import { PermanentMessageError } from '@clearline/messaging';
import { LOGGER, type Logger } from '@clearline/service-runtime';
import type { LedgerBatchWriter } from './ledger-batch-writer.js';

const LEDGER_COMMAND_TYPES: ReadonlySet<string> = new Set<LedgerCommand['type']>([
  'OpenAccount', 'ModifyAccount', 'FreezeAccount', 'UnfreezeAccount', 'CloseAccount', 'RegisterBalanceMonitor', 'PostTransfer',
  'PostLinkedTransfers', 'ExchangeCurrency', 'ReverseTransfer', 'PlaceHold', 'CaptureHold', 'VoidHold', 'ExpireHold',
]);

/**
 * Hands every ledger command message to the batch writer and resolves once the batch that carries
 * its outcome has committed, so the consumer commits the message only after its effect is stored.
 * The consumer starts a chunk's handlers together (handlerConcurrency 'chunk'): the writer sees the
 * chunk at once and decides it in one batch. A command handled again (a redelivery, a chunk rolled
 * back) replays: the writer answers with the first outcome and appends nothing.
 */
@Injectable()
export class LedgerCommandHandler {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  async handle(envelope: ContractEnvelope, writer: LedgerBatchWriter): Promise<LedgerResult> {
    const command = ledgerCommandOf(envelope);
    let result: LedgerResult;
    try {
      result = await writer.submit(command, envelope);
    } catch (error) {
      // Input that no state could make valid is the sender's error: dead-lettered with the reason,
      // never retried. Anything else (a full queue, a lost lock, an unknown commit) is retried.
      if (error instanceof LedgerDomainError) throw new PermanentMessageError(error.message);
      throw error;
    }
    const log = { command: command.type, status: result.status, reasonCode: result.reasonCode, outcome: result.outcome?.type, correlationId: envelope.metadata.correlationId };
    if (result.status === 'rejected') this.logger.info(log, 'ledger command rejected');
    else this.logger.debug(log, result.status === 'replayed' ? 'ledger command repeated; first outcome stands' : 'ledger command accepted');
    return result;
  }
}

function ledgerCommandOf(envelope: ContractEnvelope): LedgerCommand {
  if (!LEDGER_COMMAND_TYPES.has(envelope.type)) throw new PermanentMessageError(`the ledger does not handle '${envelope.type}' messages`);
  return { type: envelope.type, data: envelope.data } as LedgerCommand;
}
