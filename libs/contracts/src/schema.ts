import { UUID_PATTERN } from './message-id.js';

/** A JSON Schema (draft 2020-12 subset understood by Ajv) kept as plain data so it can be published. */
export type JsonSchema = Record<string, unknown>;

/** Amounts cross boundaries as decimal strings of integer minor units: JSON has no bigint. */
/** The largest amount or balance in minor units a contract carries (31 digits, the patterns below), either sign. */
export const MAX_MINOR_UNITS = 10n ** 31n - 1n;
export const MINOR_UNITS_PATTERN = '^(0|[1-9][0-9]{0,30})$';
export const POSITIVE_MINOR_UNITS_PATTERN = '^[1-9][0-9]{0,30}$';
export const SIGNED_MINOR_UNITS_PATTERN = '^(0|-?[1-9][0-9]{0,30})$';
export const IDENTIFIER_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
const ISO_TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

export const uuidSchema: JsonSchema = { type: 'string', pattern: UUID_PATTERN };
export const identifierSchema: JsonSchema = { type: 'string', pattern: IDENTIFIER_PATTERN };
export const timestampSchema: JsonSchema = { type: 'string', pattern: ISO_TIMESTAMP_PATTERN };
/** The form of an ISO 4217 code; validateEnvelope also requires a code that exists (currency-codes.ts). */
export const currencySchema: JsonSchema = { type: 'string', pattern: '^[A-Z]{3}$' };

export function enumSchema(values: readonly string[]): JsonSchema {
  return { type: 'string', enum: [...values] };
}

/** A closed object: every listed property required unless named in `optional`; nothing else allowed. */
export function objectSchema(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
  };
}

/** Money on the wire. A strictly positive amount unless the field is a balance. */
export interface WireMoney {
  amountMinor: string;
  currency: string;
}

export const positiveMoneySchema = objectSchema({
  amountMinor: { type: 'string', pattern: POSITIVE_MINOR_UNITS_PATTERN },
  currency: currencySchema,
});

/** Balances of one account after a ledger decision, so callers need no second read. */
export interface WireBalances {
  currency: string;
  postedMinor: string;
  pendingMinor: string;
  availableMinor: string;
}

export const balancesSchema = objectSchema({
  currency: currencySchema,
  postedMinor: { type: 'string', pattern: SIGNED_MINOR_UNITS_PATTERN },
  pendingMinor: { type: 'string', pattern: MINOR_UNITS_PATTERN },
  availableMinor: { type: 'string', pattern: SIGNED_MINOR_UNITS_PATTERN },
});
