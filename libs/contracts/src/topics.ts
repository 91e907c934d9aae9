/**
 * Kafka topics. One convention: `<owning service>.<commands|events>`; every topic has a dead-letter
 * twin `<topic>.dlq` that receives what its consumers could not accept, with the reason.
 */
export const Topics = {
  paymentsCommands: 'payments.commands',
  paymentsEvents: 'payments.events',
  ledgerCommands: 'ledger.commands',
  ledgerEvents: 'ledger.events',
  riskEvents: 'risk.events',
  settlementEvents: 'settlement.events',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const DEAD_LETTER_SUFFIX = '.dlq';

export function deadLetterTopicOf(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

/** Every topic the platform uses, dead-letter topics included, for provisioning. */
export const ALL_TOPICS: readonly string[] = Object.values(Topics).flatMap((topic) => [topic, deadLetterTopicOf(topic)]);
