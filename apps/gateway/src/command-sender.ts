import { Inject, Injectable } from '@nestjs/common';
import { contractFor, type ContractEnvelope, type ContractType, type DataOf } from '@clearline/contracts';
import { MessagePublisher } from '@clearline/messaging';
import { LOGGER, ProblemException, type Logger } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';

/**
 * Sends a channel's command to Kafka and resolves once the broker has it (acks from all in-sync
 * replicas). If Kafka does not confirm it, the caller gets a 503 and may retry with the same
 * Idempotency-Key. The broker may have taken it all the same (a timeout after the write): the
 * command's ids derive from the request (command-ids.ts), so the retry's copy acts on nothing new.
 */
@Injectable()
export class CommandSender {
  constructor(
    private readonly publisher: MessagePublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `messageId`: the envelope's id when the command's own id derives from the request (a retry's repeat is then dropped by the consumer's inbox). */
  async send<Type extends ContractType>(type: Type, data: DataOf<Type>, correlationId: string, messageId: string = randomUUID()): Promise<string> {
    const contract = contractFor(type);
    const envelope = {
      id: messageId,
      type,
      schemaVersion: contract.schemaVersion,
      data,
      metadata: { correlationId, causationId: correlationId, occurredAt: new Date().toISOString(), producer: 'gateway' },
    } as ContractEnvelope;
    try {
      await this.publisher.publish([envelope]);
    } catch (error) {
      this.logger.error({ err: error, type, correlationId }, 'could not hand the command to Kafka');
      throw new ProblemException(503, 'broker-unavailable', 'Command not accepted', 'The message broker did not accept the command; retry with the same Idempotency-Key.');
    }
    this.logger.info({ type, messageId: envelope.id, correlationId }, 'command accepted');
    return envelope.id;
  }
}
