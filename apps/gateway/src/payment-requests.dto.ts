import {
  CAPTURE_MODES, E164_PHONE_NUMBER_PATTERN, MAX_AUTHORIZATION_TTL_MS, MIN_AUTHORIZATION_TTL_MS, PAYMENT_CHANNELS, PAYMENT_METHODS, REVIEW_DECISIONS,
  type CaptureMode, type PaymentChannel, type PaymentMethod, type ReviewDecision,
} from '@clearline/contracts';
import { isCurrencyCode } from '@clearline/money';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested, registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { containsCardNumber } from './payment-sources.js';

/** Integer minor units as a string: JSON numbers lose precision above 2^53 and invite floats. */
const POSITIVE_MINOR_UNITS = /^[1-9][0-9]{0,18}$/;
export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
export const IDENTIFIER_MESSAGE = 'must be 1-64 characters: letters, digits, and _ . : - (not first)';

/** How the OpenAPI document describes the validations below: the same patterns, stated once here. */
export const IDENTIFIER_PROPERTY = { type: String, pattern: IDENTIFIER.source, maxLength: 64, example: 'wallet-alice' } as const;
export const CURRENCY_PROPERTY = { type: String, pattern: '^[A-Z]{3}$', description: 'An active ISO 4217 currency code', example: 'EUR' } as const;

export function IsIsoCurrency(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isIsoCurrency',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: '$property must be an active ISO 4217 currency code, e.g. EUR', ...options },
    validator: { validate: (value: unknown) => isCurrencyCode(value) },
  });
}

export class AmountDto {
  @ApiProperty({ type: String, pattern: POSITIVE_MINOR_UNITS.source, description: 'Integer minor units as a string (never a float)', example: '1250' })
  @IsString()
  @Matches(POSITIVE_MINOR_UNITS, { message: 'amountMinor must be a positive integer of minor units, as a string (e.g. "1250" for 12.50 EUR)' })
  amountMinor!: string;

  @ApiProperty(CURRENCY_PROPERTY)
  @IsIsoCurrency()
  currency!: string;
}

export class RiskContextDto {
  @ApiPropertyOptional({ type: String, pattern: '^[0-9A-Fa-f:.]{2,45}$', example: '203.0.113.7' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Fa-f:.]{2,45}$/, { message: 'ipAddress must be an IPv4 or IPv6 address' })
  ipAddress?: string;

  @ApiPropertyOptional(IDENTIFIER_PROPERTY)
  @IsOptional()
  @Matches(IDENTIFIER, { message: `deviceId ${IDENTIFIER_MESSAGE}` })
  deviceId?: string;
}

/** Refuses free text holding a card number (13-19 digits, spaces or hyphens between, passing Luhn). */
export function HasNoCardNumber(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'hasNoCardNumber',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: '$property must not contain a card number: send cards only in the card object', ...options },
    validator: { validate: (value: unknown) => typeof value !== 'string' || !containsCardNumber(value) },
  });
}

/**
 * What a customer typed. Only the shape is checked here; the card itself (length per brand, Luhn,
 * expiry, CVV) is checked by the card vault as it tokenises, and no message echoes a value.
 */
export class CardDetailsDto {
  @ApiProperty({ type: String, maxLength: 40, description: 'The card number (PAN): 12-19 digits, spaces or hyphens allowed. Never stored, logged or forwarded', example: '4242 4242 4242 4242' })
  @IsString({ message: '$property must be a string of digits' })
  @MaxLength(40, { message: '$property must be at most 40 characters' })
  number!: string;

  @ApiProperty({ type: Number, minimum: 1, maximum: 12, example: 12 })
  @IsInt({ message: '$property must be an integer from 1 to 12' })
  expMonth!: number;

  @ApiProperty({ type: Number, description: 'Four digits (2030) or two (30)', example: 2030 })
  @IsInt({ message: '$property must be an integer: four digits (2030) or two (30)' })
  expYear!: number;

  @ApiProperty({ type: String, pattern: '^[0-9]{3,4}$', description: 'The security code: 3 digits, 4 for amex. Checked, then forgotten', example: '123' })
  @IsString({ message: '$property must be a string of 3 or 4 digits' })
  @MaxLength(4, { message: '$property must be 3 or 4 digits' })
  cvv!: string;

  @ApiPropertyOptional({ type: String, maxLength: 100, description: 'The name on the card; checked, not forwarded' })
  @IsOptional()
  @IsString({ message: '$property must be a string' })
  @MaxLength(100, { message: '$property must be at most 100 characters' })
  @HasNoCardNumber({ message: '$property must not contain a card number' })
  holderName?: string;
}

export class EWalletDto {
  @ApiProperty({ ...IDENTIFIER_PROPERTY, description: "The payer's wallet at the e-wallet provider", example: 'wallet-42' })
  @Matches(IDENTIFIER, { message: `$property ${IDENTIFIER_MESSAGE}` })
  walletId!: string;
}

const E164_PHONE_NUMBER = new RegExp(E164_PHONE_NUMBER_PATTERN);

export class MobileMoneyDto {
  @ApiProperty({ type: String, pattern: E164_PHONE_NUMBER_PATTERN, description: 'The payer\'s phone number in E.164: +, country code, number (at most 15 digits)', example: '+254712345678' })
  @IsString({ message: '$property must be a string' })
  @Matches(E164_PHONE_NUMBER, { message: '$property must be in E.164 form: + then 7 to 15 digits, no leading zero (e.g. +254712345678)' })
  phoneNumber!: string;
}

export class CreatePaymentRequest {
  @ApiProperty({ enum: PAYMENT_CHANNELS })
  @IsIn(PAYMENT_CHANNELS)
  channel!: PaymentChannel;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `merchantId ${IDENTIFIER_MESSAGE}` })
  merchantId!: string;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `merchantAccountId ${IDENTIFIER_MESSAGE}` })
  merchantAccountId!: string;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `payerAccountId ${IDENTIFIER_MESSAGE}` })
  payerAccountId!: string;

  @ApiProperty({ type: AmountDto })
  @IsObject({ message: 'amount must be an object: {"amountMinor": "1250", "currency": "EUR"}' })
  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;

  @ApiProperty({ enum: PAYMENT_METHODS })
  @IsIn(PAYMENT_METHODS)
  method!: PaymentMethod;

  @ApiPropertyOptional({ type: String, maxLength: 200, description: 'Free text for the merchant and analysts; a card number in it is refused' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @HasNoCardNumber()
  description?: string;

  @ApiPropertyOptional({ type: RiskContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RiskContextDto)
  riskContext?: RiskContextDto;

  @ApiPropertyOptional({ enum: CAPTURE_MODES, description: "'automatic' (default): a sale, captured once authorized. 'manual': authorized, then captured, voided or expired" })
  @IsOptional()
  @IsIn(CAPTURE_MODES)
  captureMode?: CaptureMode;

  @ApiPropertyOptional({ type: Number, minimum: MIN_AUTHORIZATION_TTL_MS, maximum: MAX_AUTHORIZATION_TTL_MS, description: 'How long a manual authorization lives uncaptured, in milliseconds (default 7 days)' })
  @IsOptional()
  @IsInt()
  @Min(MIN_AUTHORIZATION_TTL_MS)
  @Max(MAX_AUTHORIZATION_TTL_MS)
  authorizationTtlMs?: number;

  @ApiPropertyOptional({ type: CardDetailsDto, description: "Method 'card' only (and required for it). Tokenised at the edge: only the token, fingerprint, last4, brand and expiry go further" })
  @IsOptional()
  @ValidateNested()
  @Type(() => CardDetailsDto)
  card?: CardDetailsDto;

  @ApiPropertyOptional({ type: EWalletDto, description: "Method 'e_wallet' only (and required for it)" })
  @IsOptional()
  @ValidateNested()
  @Type(() => EWalletDto)
  eWallet?: EWalletDto;

  @ApiPropertyOptional({ type: MobileMoneyDto, description: "Method 'mobile_money' only (and required for it)" })
  @IsOptional()
  @ValidateNested()
  @Type(() => MobileMoneyDto)
  mobileMoney?: MobileMoneyDto;
}

export class CreateTransferRequest {
  @ApiPropertyOptional({ type: String, format: 'uuid', description: 'Chosen by the caller for idempotency; a new uuid when absent' })
  @IsOptional()
  @IsUUID('all')
  transferId?: string;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `debitAccountId ${IDENTIFIER_MESSAGE}` })
  debitAccountId!: string;

  @ApiProperty(IDENTIFIER_PROPERTY)
  @Matches(IDENTIFIER, { message: `creditAccountId ${IDENTIFIER_MESSAGE}` })
  creditAccountId!: string;

  @ApiProperty({ type: AmountDto })
  @IsObject({ message: 'amount must be an object: {"amountMinor": "1250", "currency": "EUR"}' })
  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;
}

// ---------------------------------------------------------------- lifecycle commands

export class CapturePaymentRequest {
  @ApiPropertyOptional({ type: AmountDto, description: 'At most the authorized amount (a partial capture releases the rest); default: all of it' })
  @IsOptional()
  @ValidateNested()
  @Type(() => AmountDto)
  amount?: AmountDto;
}

export class RefundPaymentRequest {
  @ApiPropertyOptional({ type: String, format: 'uuid', description: 'Names the refund (idempotent); derived from the Idempotency-Key when absent' })
  @IsOptional()
  @IsUUID('all', { message: 'refundId must be a uuid' })
  refundId?: string;

  @ApiProperty({ type: AmountDto, description: 'This refund; all refunds together stay within the captured amount' })
  @IsObject({ message: 'amount must be an object: {"amountMinor": "1250", "currency": "EUR"}' })
  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;
}

export class ReviewPaymentRequest {
  @ApiProperty({ enum: REVIEW_DECISIONS, description: "The analyst's decision on a payment in review" })
  @IsIn(REVIEW_DECISIONS, { message: `decision must be one of: ${REVIEW_DECISIONS.join(', ')}` })
  decision!: ReviewDecision;

  @ApiPropertyOptional({ ...IDENTIFIER_PROPERTY, description: 'The analyst, for the audit trail', example: 'analyst-7' })
  @IsOptional()
  @Matches(IDENTIFIER, { message: `reviewerId ${IDENTIFIER_MESSAGE}` })
  reviewerId?: string;
}
