import { Ajv, type ValidateFunction } from 'ajv';
import type { MessageContract } from './contract.js';
import { currencyPathsOf, unknownCurrenciesAt } from './currency-codes.js';
import type { MessageEnvelope } from './envelope.js';
import * as ledger from './ledger.js';
import * as ledgerOperations from './ledger-operations.js';
import { isUuid } from './message-id.js';
import * as payments from './payments.js';
import * as risk from './risk.js';
import * as settlement from './settlement.js';

/** Every message that crosses a service boundary. A type not listed here never leaves its service. */
export const CONTRACTS = [
  payments.RequestPayment,
  payments.PaymentRequested,
  payments.PaymentAuthorizationStarted,
  payments.PaymentInReview,
  payments.PaymentDeclined,
  payments.PaymentAuthorized,
  payments.PaymentCaptured,
  payments.PaymentSettled,
  payments.CapturePayment,
  payments.VoidPayment,
  payments.RefundPayment,
  payments.ReviewPayment,
  payments.FirePaymentTimeout,
  payments.PaymentVoided,
  payments.PaymentExpired,
  payments.PaymentFailed,
  payments.PaymentRefunded,
  payments.RefundFailed,
  payments.PaymentCommandRejected,
  risk.RiskAssessed,
  settlement.RefundSettled,
  settlement.SettlementBatchClosed,
  settlement.CloseSettlementBatch,
  ledger.OpenAccount,
  ledger.AccountOpened,
  ledger.PostTransfer,
  ledger.TransferPosted,
  ledger.TransferRejected,
  ledger.PlaceHold,
  ledger.HoldPlaced,
  ledger.HoldRejected,
  ledger.CaptureHold,
  ledger.HoldCaptured,
  ledger.CaptureRejected,
  ledgerOperations.ModifyAccount,
  ledgerOperations.AccountModified,
  ledgerOperations.FreezeAccount,
  ledgerOperations.AccountFrozen,
  ledgerOperations.UnfreezeAccount,
  ledgerOperations.AccountUnfrozen,
  ledgerOperations.CloseAccount,
  ledgerOperations.AccountClosed,
  ledgerOperations.AccountCommandRejected,
  ledgerOperations.RegisterBalanceMonitor,
  ledgerOperations.BalanceMonitorRegistered,
  ledgerOperations.BalanceThresholdCrossed,
  ledgerOperations.PostLinkedTransfers,
  ledgerOperations.LinkedTransfersPosted,
  ledgerOperations.LinkedTransfersRejected,
  ledgerOperations.ExchangeCurrency,
  ledgerOperations.CurrencyExchanged,
  ledgerOperations.CurrencyExchangeRejected,
  ledgerOperations.ReverseTransfer,
  ledgerOperations.TransferReversed,
  ledgerOperations.TransferReversalRejected,
  ledgerOperations.VoidHold,
  ledgerOperations.HoldVoided,
  ledgerOperations.ExpireHold,
  ledgerOperations.HoldExpired,
  ledgerOperations.HoldReleaseRejected,
] as const satisfies readonly MessageContract<string, never>[];

type AnyContract = (typeof CONTRACTS)[number];
export type ContractType = AnyContract['type'];

/** The data type of a message type, for `MessageEnvelope<T, DataOf<T>>`. */
export type DataOf<Type extends ContractType> =
  Extract<AnyContract, { type: Type }> extends MessageContract<Type, infer Data> ? Data : never;

export type ContractEnvelope<Type extends ContractType = ContractType> = {
  [Name in Type]: MessageEnvelope<Name, DataOf<Name>>;
}[Type];

const contractsByType = new Map<string, MessageContract>(
  CONTRACTS.map((contract) => [contract.type, contract as unknown as MessageContract]),
);

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>(
  CONTRACTS.map((contract) => [contract.type, ajv.compile(contract.schema)]),
);
/** Where each message type's data holds currencies (their existence is checked after the schema, which states only their form). */
const currencyPaths = new Map(CONTRACTS.map((contract) => [contract.type as string, currencyPathsOf(contract.schema)]));

export function isContractType(type: string): type is ContractType {
  return contractsByType.has(type);
}

export function contractFor(type: string): MessageContract {
  const contract = contractsByType.get(type);
  if (!contract) throw new UnknownMessageTypeError(type);
  return contract;
}

export class UnknownMessageTypeError extends Error {
  constructor(readonly messageType: string) {
    super(`unknown message type '${messageType}': it is not in libs/contracts`);
    this.name = 'UnknownMessageTypeError';
  }
}

export class ContractViolationError extends Error {
  constructor(readonly messageType: string, readonly problems: string[]) {
    super(`message '${messageType}' violates its contract: ${problems.join('; ')}`);
    this.name = 'ContractViolationError';
  }
}

export type ValidationResult = { valid: true; envelope: ContractEnvelope } | { valid: false; reason: string };

/**
 * Checks an envelope (already parsed from JSON) against its contract: known type, the schema version
 * the contract states, a uuid id, correlation and causation ids, data that matches the schema, and
 * currencies that exist (ISO 4217: the schema only states their form).
 */
export function validateEnvelope(candidate: unknown): ValidationResult {
  const problems = envelopeProblems(candidate);
  if (problems.length > 0) return { valid: false, reason: problems.join('; ') };
  const envelope = candidate as MessageEnvelope;
  const validate = validators.get(envelope.type);
  if (!validate) return { valid: false, reason: `unknown message type '${envelope.type}'` };
  const contract = contractFor(envelope.type);
  if (envelope.schemaVersion !== contract.schemaVersion) {
    return { valid: false, reason: `${envelope.type} schema version ${envelope.schemaVersion} is not supported (expected ${contract.schemaVersion})` };
  }
  if (!validate(envelope.data)) {
    const details = (validate.errors ?? []).map((error) => `data${error.instancePath} ${error.message ?? 'is invalid'}`);
    return { valid: false, reason: `${envelope.type}: ${details.join('; ')}` };
  }
  const unknownCurrencies = unknownCurrenciesAt(currencyPaths.get(envelope.type) ?? [], envelope.data);
  if (unknownCurrencies.length > 0) {
    const details = unknownCurrencies.map(({ path, code }) => `data${path} '${code}' is not an ISO 4217 currency code`);
    return { valid: false, reason: `${envelope.type}: ${details.join('; ')}` };
  }
  return { valid: true, envelope: envelope as ContractEnvelope };
}

/** Throws ContractViolationError; for producers, where an invalid message is a programming error. */
export function assertValidEnvelope(candidate: unknown): ContractEnvelope {
  const result = validateEnvelope(candidate);
  if (!result.valid) {
    const type = typeof candidate === 'object' && candidate !== null ? String((candidate as { type?: unknown }).type) : 'unknown';
    throw new ContractViolationError(type, [result.reason]);
  }
  return result.envelope;
}

function envelopeProblems(candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return ['the message is not a JSON object'];
  const envelope = candidate as Partial<MessageEnvelope>;
  const problems: string[] = [];
  if (!isUuid(envelope.id)) problems.push('id must be a uuid');
  if (typeof envelope.type !== 'string' || envelope.type.length === 0) problems.push('type must be a non-empty string');
  if (!Number.isInteger(envelope.schemaVersion)) problems.push('schemaVersion must be an integer');
  const metadata = envelope.metadata;
  if (typeof metadata !== 'object' || metadata === null) {
    problems.push('metadata must be an object');
  } else {
    for (const field of ['correlationId', 'causationId', 'occurredAt', 'producer'] as const) {
      if (typeof metadata[field] !== 'string' || metadata[field].length === 0) problems.push(`metadata.${field} must be a non-empty string`);
    }
  }
  if (!('data' in envelope)) problems.push('data is missing');
  return problems;
}
