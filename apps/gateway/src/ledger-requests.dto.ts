import { ACCOUNT_KINDS, ACCOUNT_METADATA_MAX_ENTRIES, ACCOUNT_METADATA_VALUE_MAX_LENGTH, MINOR_UNITS_PATTERN, type AccountKind } from '@clearline/contracts';
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsRFC3339, Matches, Max, Min, registerDecorator, type ValidationOptions } from 'class-validator';
import { CURRENCY_PROPERTY, IDENTIFIER, IDENTIFIER_MESSAGE, IDENTIFIER_PROPERTY, IsIsoCurrency } from './payment-requests.dto.js';

/** Limits are minor units like amounts, but zero is a limit too. */
const MINOR_UNITS = new RegExp(MINOR_UNITS_PATTERN);
const POSITION = /^(0|[1-9][0-9]{0,18})$/;
const CURSOR = /^[A-Za-z0-9_-]{1,64}$/;
/** The correlation middleware's rule: an id it would have accepted from a caller. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{8,128}$/;
export const MAX_PAGE_LIMIT = 500;

/** The contract's account metadata: up to 16 entries, identifier keys, short string values. */
function IsAccountMetadata(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isAccountMetadata',
    target: target.constructor,
    propertyName: String(propertyName),
    options: {
      message: `$property must be an object of at most ${ACCOUNT_METADATA_MAX_ENTRIES} entries: identifier keys, string values of at most ${ACCOUNT_METADATA_VALUE_MAX_LENGTH} characters`,
      ...options,
    },
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const entries = Object.entries(value);
        return entries.length <= ACCOUNT_METADATA_MAX_ENTRIES
          && entries.every(([key, entry]) => IDENTIFIER.test(key) && typeof entry === 'string' && entry.length <= ACCOUNT_METADATA_VALUE_MAX_LENGTH);
      },
    },
  });
}

export class OpenAccountRequest {
  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `accountId ${IDENTIFIER_MESSAGE}` })
  accountId!: string;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `ownerId ${IDENTIFIER_MESSAGE}` })
  ownerId!: string;

  @ApiProperty({ enum: ACCOUNT_KINDS })
  @IsIn(ACCOUNT_KINDS)
  kind!: AccountKind;

  @ApiProperty(CURRENCY_PROPERTY)
  @IsIsoCurrency()
  currency!: string;

  @ApiPropertyOptional({ type: Boolean, description: 'Shorthand: true lets the balance go below zero (funding and settlement accounts); false is debitsMustNotExceedCredits. Not with the flags.' })
  @IsOptional()
  @IsBoolean()
  allowNegativeBalance?: boolean;

  @ApiPropertyOptional({ type: Boolean, description: 'Debits (posted and pending) may not exceed credits plus overdraftLimitMinor. The default when no flag is given.' })
  @IsOptional()
  @IsBoolean()
  debitsMustNotExceedCredits?: boolean;

  @ApiPropertyOptional({ type: Boolean, description: 'Credits may not exceed debits plus creditLimitMinor (e.g. a merchant that may hold at most its limit)' })
  @IsOptional()
  @IsBoolean()
  creditsMustNotExceedDebits?: boolean;

  @ApiPropertyOptional({ type: String, pattern: MINOR_UNITS_PATTERN, description: 'How far debits may exceed credits, in minor units; needs debitsMustNotExceedCredits', example: '5000' })
  @IsOptional()
  @Matches(MINOR_UNITS, { message: 'overdraftLimitMinor must be a non-negative integer of minor units, as a string' })
  overdraftLimitMinor?: string;

  @ApiPropertyOptional({ type: String, pattern: MINOR_UNITS_PATTERN, description: 'How far credits may exceed debits, in minor units; needs creditsMustNotExceedDebits', example: '0' })
  @IsOptional()
  @Matches(MINOR_UNITS, { message: 'creditLimitMinor must be a non-negative integer of minor units, as a string' })
  creditLimitMinor?: string;

  @ApiPropertyOptional({
    type: 'object', additionalProperties: { type: 'string', maxLength: ACCOUNT_METADATA_VALUE_MAX_LENGTH }, maxProperties: ACCOUNT_METADATA_MAX_ENTRIES,
    example: { segment: 'retail' },
  })
  @IsOptional()
  @IsAccountMetadata()
  metadata?: Record<string, string>;
}

/**
 * The ledger's rules for the balance flags and limits of a new account (libs/ledger-domain,
 * account-decisions.ts), checked here too: the ledger can only dead-letter a command that breaks
 * them, while the caller of POST /v1/accounts deserves a 400 that names the problem.
 */
export function openingTermsProblem(request: OpenAccountRequest): string | undefined {
  const { allowNegativeBalance, debitsMustNotExceedCredits, creditsMustNotExceedDebits } = request;
  if (debitsMustNotExceedCredits === true && creditsMustNotExceedDebits === true) return 'debitsMustNotExceedCredits and creditsMustNotExceedDebits exclude each other';
  if (allowNegativeBalance !== undefined && (debitsMustNotExceedCredits !== undefined || creditsMustNotExceedDebits !== undefined)) {
    return 'give allowNegativeBalance or the balance flags, not both';
  }
  const debitsBounded = debitsMustNotExceedCredits ?? (creditsMustNotExceedDebits === true ? false : allowNegativeBalance !== true);
  if (BigInt(request.overdraftLimitMinor ?? '0') > 0n && !debitsBounded) return 'an overdraft limit needs debitsMustNotExceedCredits';
  if (BigInt(request.creditLimitMinor ?? '0') > 0n && creditsMustNotExceedDebits !== true) return 'a credit limit needs creditsMustNotExceedDebits';
  return undefined;
}

export class ModifyAccountRequest {
  @ApiPropertyOptional({ type: String, pattern: MINOR_UNITS_PATTERN, description: 'How far debits may exceed credits, in minor units', example: '5000' })
  @IsOptional()
  @Matches(MINOR_UNITS, { message: 'overdraftLimitMinor must be a non-negative integer of minor units, as a string' })
  overdraftLimitMinor?: string;

  @ApiPropertyOptional({ type: String, pattern: MINOR_UNITS_PATTERN, description: 'How far credits may exceed debits, in minor units', example: '0' })
  @IsOptional()
  @Matches(MINOR_UNITS, { message: 'creditLimitMinor must be a non-negative integer of minor units, as a string' })
  creditLimitMinor?: string;

  @ApiPropertyOptional({
    type: 'object', additionalProperties: { type: 'string', maxLength: ACCOUNT_METADATA_VALUE_MAX_LENGTH }, maxProperties: ACCOUNT_METADATA_MAX_ENTRIES,
    description: 'Replaces the whole metadata map', example: { segment: 'retail' },
  })
  @IsOptional()
  @IsAccountMetadata()
  metadata?: Record<string, string>;
}

/** Freeze, unfreeze and close carry everything in the path; a body, if any, must be empty. */
export class EmptyRequest {}

export class BalanceQuery {
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'The balance as of this instant (RFC 3339 with an offset)', example: '2026-11-27T09:30:00Z' })
  @IsOptional()
  @IsRFC3339({ message: 'asOf must be an RFC 3339 date-time with an offset, e.g. 2026-11-27T09:30:00Z' })
  asOf?: string;

  @ApiPropertyOptional({ type: String, pattern: POSITION.source, description: 'The balance as of this global position of the event store', example: '1042' })
  @IsOptional()
  @Matches(POSITION, { message: 'position must be a non-negative integer (a global position)' })
  position?: string;
}

/** How many items a page holds: every list's, whatever its cursor. */
class PageLimitQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit?: number;
}

export class PageQuery extends PageLimitQuery {
  @ApiPropertyOptional({ type: String, description: "An opaque cursor: the previous page's page.nextCursor" })
  @IsOptional()
  @Matches(CURSOR, { message: "cursor must be a previous page's nextCursor" })
  cursor?: string;
}

/** Analytics' keyset cursor: base64url of the last row's sort key, longer than the ledger reads' cursors. */
const KEYSET_CURSOR = /^[A-Za-z0-9_-]{1,512}$/;

/** The paging of analytics' lists (payments, settlement batches): their filters extend it. */
export class KeysetPageQuery extends PageLimitQuery {
  @ApiPropertyOptional({ type: String, description: "An opaque cursor: the previous page's nextCursor, with the same filters" })
  @IsOptional()
  @Matches(KEYSET_CURSOR, { message: "cursor must be a previous page's nextCursor" })
  cursor?: string;
}

export class TransfersQuery extends PageQuery {
  @ApiProperty({ type: String, pattern: CORRELATION_ID.source, description: 'The X-Correlation-Id of the request that caused the transfers' })
  @Matches(CORRELATION_ID, { message: 'correlationId must be 8-128 characters: letters, digits and . _ : -' })
  correlationId!: string;
}
