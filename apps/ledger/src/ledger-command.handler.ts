import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope } from '@clearline/contracts';
import { LedgerDomainError, type LedgerCommand, type LedgerResult } from '@clearline/ledger-domain';
import { MessagingInfrastructureError, PermanentMessageError } from '@clearline/messaging';
import { LOGGER, type Logger } from '@clearline/service-runtime';
import { LedgerOutcomeUnknownError, LedgerWriterOverloadedError, LedgerWriterStoppedError, type LedgerBatchWriter } from './ledger-batch-writer.js';

/**
 * How long a command waits for the writer's answer before its message is handed back to Kafka for
 * redelivery. Below the ledger consumer's handler time limit, so a stuck writer (PostgreSQL frozen,
 * its lock session hanging) is reported as the ledger's own failure, never blamed on the message.
 */
export const LEDGER_ANSWER_TIMEOUT_MS = 6_000;

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
      result = await answerWithin(writer.submit(command, envelope), LEDGER_ANSWER_TIMEOUT_MS);
    } catch (error) {
      // Input that no state could make valid is the sender's error: dead-lettered with the reason,
      // never retried.
      if (error instanceof LedgerDomainError) throw new PermanentMessageError(error.message);
      // The writer's own state (a full queue, a lost lock, an unknown commit, no answer in time) is no
      // fault of the message: Kafka redelivers it, however long that takes, and never dead-letters
      // it, since a money movement parked on a dead-letter topic is one the payer never gets back
      // without an operator. Command ids make the redelivery one effect.
      if (isWriterUnavailable(error)) throw new MessagingInfrastructureError(`the ledger writer could not take the command: ${(error as Error).message}`, { cause: error });
      throw error;
    }
    const log = { command: command.type, status: result.status, reasonCode: result.reasonCode, outcome: result.outcome?.type, correlationId: envelope.metadata.correlationId };
    if (result.status === 'rejected') this.logger.info(log, 'ledger command rejected');
    else this.logger.debug(log, result.status === 'replayed' ? 'ledger command repeated; first outcome stands' : 'ledger command accepted');
    return result;
  }
}

class LedgerAnswerTimeoutError extends Error {
  override name = 'LedgerAnswerTimeoutError';
}

function isWriterUnavailable(error: unknown): boolean {
  return error instanceof LedgerWriterStoppedError || error instanceof LedgerWriterOverloadedError
    || error instanceof LedgerOutcomeUnknownError || error instanceof LedgerAnswerTimeoutError;
}

/** The writer's answer, or LedgerAnswerTimeoutError after `timeoutMs` (the command may still be appended: its id makes the redelivery a replay). */
async function answerWithin<T>(answer: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LedgerAnswerTimeoutError(`no answer from the ledger writer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function ledgerCommandOf(envelope: ContractEnvelope): LedgerCommand {
  if (!LEDGER_COMMAND_TYPES.has(envelope.type)) throw new PermanentMessageError(`the ledger does not handle '${envelope.type}' messages`);
  return { type: envelope.type, data: envelope.data } as LedgerCommand;
}
