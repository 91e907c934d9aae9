// Test helpers for this library's specs: a connector that answers from a script, an in-memory
// stand-in for the few Redis commands the vault uses, and sample Money and requests.
import { moneyFromMinor, type Money } from '@clearline/money';
export { inMemoryVaultRedis as inMemoryRedis } from '@clearline/cards';
import type { Clock } from './clock.js';
import type { AuthorizeRequest, Connector, ConnectorCallOptions, ConnectorOperation, ConnectorRail, ConnectorResult } from './connector.js';

/** One scripted answer: a result after `latencyMs`, a hang until aborted, or a thrown error. */
export type ScriptedAnswer = ConnectorResult | { readonly hang: true } | { readonly throws: Error };

export interface ScriptedCall {
  readonly operation: ConnectorOperation;
  readonly idempotencyKey: string;
}

/**
 * Answers the n-th call with script[n] (the last entry repeats). Records every call so a test can
 * say how often the provider was really reached.
 */
export function scriptedConnector(id: string, rail: ConnectorRail, clock: Clock, script: readonly ScriptedAnswer[], latencyMs = 10) {
  const calls: ScriptedCall[] = [];
  const answer = async (operation: ConnectorOperation, idempotencyKey: string, options: ConnectorCallOptions): Promise<ConnectorResult> => {
    const next = script[Math.min(calls.length, script.length - 1)]!;
    calls.push({ operation, idempotencyKey });
    if ('throws' in next) throw next.throws;
    if ('hang' in next) {
      await clock.sleep(3_600_000, options.signal);
      throw new Error('hung call was never aborted');
    }
    await clock.sleep(latencyMs, options.signal);
    return next;
  };
  const connector: Connector & { calls: ScriptedCall[] } = {
    id,
    rail,
    calls,
    authorize: (request, options) => answer('authorize', request.idempotencyKey, options),
    capture: (request, options) => answer('capture', request.idempotencyKey, options),
    void: (request, options) => answer('void', request.idempotencyKey, options),
    refund: (request, options) => answer('refund', request.idempotencyKey, options),
  };
  return connector;
}

export function eur(amountMinor: bigint): Money {
  return moneyFromMinor(amountMinor, 'EUR');
}

export function cardAuthorization(amountMinor: bigint, idempotencyKey = 'pay-1:authorize', token = 'tok_AAAAAAAAAAAAAAAAAAAAAA'): AuthorizeRequest {
  return { idempotencyKey, paymentId: 'pay-1', amount: eur(amountMinor), source: { rail: 'card', token } };
}

export function walletAuthorization(amountMinor: bigint, idempotencyKey = 'pay-1:authorize'): AuthorizeRequest {
  return { idempotencyKey, paymentId: 'pay-1', amount: eur(amountMinor), source: { rail: 'e_wallet', walletId: 'wallet-42' } };
}
