import { ACCOUNT_KINDS, PAYMENT_CHANNELS, PAYMENT_METHODS, type AccountKind, type PaymentChannel, type PaymentMethod } from '@clearline/contracts';
import { isCurrencyCode } from '@clearline/money';
import { Type } from 'class-transformer';
import {
  IsBoolean, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested, registerDecorator,
  type ValidationOptions,
} from 'class-validator';

/** Integer minor units as a string: JSON numbers lose precision above 2^53 and invite floats. */
const POSITIVE_MINOR_UNITS = /^[1-9][0-9]{0,18}$/;
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const IDENTIFIER_MESSAGE = 'must be 1-64 characters: letters, digits, and _ . : - (not first)';

function IsIsoCurrency(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isIsoCurrency',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: '$property must be an active ISO 4217 currency code, e.g. EUR', ...options },
    validator: { validate: (value: unknown) => isCurrencyCode(value) },
  });
}

export class AmountDto {
  @IsString()
  @Matches(POSITIVE_MINOR_UNITS, { message: 'amountMinor must be a positive integer of minor units, as a string (e.g. "1250" for 12.50 EUR)' })
  amountMinor!: string;

  @IsIsoCurrency()
  currency!: string;
}

export class RiskContextDto {
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Fa-f:.]{2,45}$/, { message: 'ipAddress must be an IPv4 or IPv6 address' })
  ipAddress?: string;

  @IsOptional()
  @Matches(IDENTIFIER, { message: `deviceId ${IDENTIFIER_MESSAGE}` })
  deviceId?: string;
}

export class CreatePaymentRequest {
  @IsIn(PAYMENT_CHANNELS)
  channel!: PaymentChannel;

  @Matches(IDENTIFIER, { message: `merchantId ${IDENTIFIER_MESSAGE}` })
  merchantId!: string;

  @Matches(IDENTIFIER, { message: `merchantAccountId ${IDENTIFIER_MESSAGE}` })
  merchantAccountId!: string;

  @Matches(IDENTIFIER, { message: `payerAccountId ${IDENTIFIER_MESSAGE}` })
  payerAccountId!: string;

  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;

  @IsIn(PAYMENT_METHODS)
  method!: PaymentMethod;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => RiskContextDto)
  riskContext?: RiskContextDto;
}

export class OpenAccountRequest {
  @Matches(IDENTIFIER, { message: `accountId ${IDENTIFIER_MESSAGE}` })
  accountId!: string;

  @Matches(IDENTIFIER, { message: `ownerId ${IDENTIFIER_MESSAGE}` })
  ownerId!: string;

  @IsIn(ACCOUNT_KINDS)
  kind!: AccountKind;

  @IsIsoCurrency()
  currency!: string;

  @IsOptional()
  @IsBoolean()
  allowNegativeBalance?: boolean;
}

export class CreateTransferRequest {
  @IsOptional()
  @IsUUID('all')
  transferId?: string;

  @Matches(IDENTIFIER, { message: `debitAccountId ${IDENTIFIER_MESSAGE}` })
  debitAccountId!: string;

  @Matches(IDENTIFIER, { message: `creditAccountId ${IDENTIFIER_MESSAGE}` })
  creditAccountId!: string;

  @ValidateNested()
  @Type(() => AmountDto)
  amount!: AmountDto;
}
