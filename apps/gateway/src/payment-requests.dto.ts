import { PAYMENT_CHANNELS, PAYMENT_METHODS, type PaymentChannel, type PaymentMethod } from '@clearline/contracts';
import { isCurrencyCode } from '@clearline/money';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested, registerDecorator,
  type ValidationOptions,
} from 'class-validator';

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
  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;

  @ApiProperty({ enum: PAYMENT_METHODS })
  @IsIn(PAYMENT_METHODS)
  method!: PaymentMethod;

  @ApiPropertyOptional({ type: String, maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ type: RiskContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RiskContextDto)
  riskContext?: RiskContextDto;
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
  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;
}
