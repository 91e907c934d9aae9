import { IDENTIFIER_PATTERN } from '@clearline/contracts';
import { MANAGED_LIST_FIELDS, type ManagedListField } from '@clearline/risk-domain';
import { Type } from 'class-transformer';
import {
  IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsRFC3339, IsString, Length, Matches, Max, Min, registerDecorator, ValidateIf, type ValidationArguments,
} from 'class-validator';

const IDENTIFIER = new RegExp(IDENTIFIER_PATTERN);
/** The contract's pattern for an IP address on PaymentRequested, so an entry can match what payments carry. */
const IP_ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;
/** Card fingerprints are HMAC-SHA256 hex (libs/cards): a card number can never be put on a list. */
const CARD_FINGERPRINT = /^[0-9a-f]{64}$/;
const POSITION = /^[1-9][0-9]{0,18}$/;
export const MAX_PAGE_LIMIT = 1_000;

const VALUE_RULES: Record<ManagedListField, { pattern: RegExp; what: string }> = {
  payerAccountId: { pattern: IDENTIFIER, what: 'an account id (letters, digits, _ . : -, at most 64)' },
  cardFingerprint: { pattern: CARD_FINGERPRINT, what: 'a card fingerprint (64 lower-case hex digits; never a card number)' },
  deviceId: { pattern: IDENTIFIER, what: 'a device id (letters, digits, _ . : -, at most 64)' },
  ipAddress: { pattern: IP_ADDRESS, what: 'an IPv4 or IPv6 address' },
};

/** Validates `value` by the entry's `field`, and refuses anything shaped like a card number in any field. */
function IsListValue(): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isListValue',
    target: target.constructor,
    propertyName: String(propertyName),
    validator: {
      validate: (value: unknown, args: ValidationArguments) => {
        const rule = VALUE_RULES[(args.object as { field?: ManagedListField }).field as ManagedListField];
        return typeof value === 'string' && rule !== undefined && rule.pattern.test(value) && !looksLikeCardNumber(value);
      },
      defaultMessage: (args?: ValidationArguments) => {
        const rule = VALUE_RULES[(args?.object as { field?: ManagedListField } | undefined)?.field as ManagedListField];
        return `value must be ${rule?.what ?? 'valid for the field'}`;
      },
    },
  });
}

/** 12-19 digits that pass the Luhn check: kept out of the lists, the audit trail and the logs. */
export function looksLikeCardNumber(value: string): boolean {
  if (!/^[0-9]{12,19}$/.test(value)) return false;
  let sum = 0;
  for (let index = 0; index < value.length; index += 1) {
    let digit = Number(value[value.length - 1 - index]);
    if (index % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

class Audited {
  /** Why: kept with the entry and in the audit trail. */
  @IsString()
  @Length(3, 500)
  reason!: string;

  /** Who: the analyst or system making the change (authenticated at the gateway once it is exposed there). */
  @Matches(IDENTIFIER, { message: 'actor must be an identifier (letters, digits, _ . : -, at most 64)' })
  actor!: string;
}

export class AddListEntryRequest extends Audited {
  @IsIn(MANAGED_LIST_FIELDS)
  field!: ManagedListField;

  @IsListValue()
  value!: string;
}

export class RemoveListEntryQuery extends Audited {}

export class ListEntriesQuery {
  @IsOptional()
  @IsIn(MANAGED_LIST_FIELDS)
  field?: ManagedListField;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  value?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit?: number;
}

export class ListChangesQuery {
  /** Changes before this change id (the previous page's last one). */
  @IsOptional()
  @Matches(POSITION, { message: 'before must be a change id' })
  before?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit?: number;
}

export const ACTIVATION_ROLES = ['live', 'shadow'] as const;

export class UploadRuleSetRequest extends Audited {
  /** The rule set document, as in apps/risk/config/rule-set.json; validated by parseRuleSet. */
  @IsObject()
  ruleSet!: Record<string, unknown>;

  /** Put the version in force at once, live or in shadow; otherwise it is only stored. */
  @IsOptional()
  @IsIn(ACTIVATION_ROLES)
  activate?: (typeof ACTIVATION_ROLES)[number];
}

export class ActivateRuleSetRequest extends Audited {
  /** The stored version; null switches shadow mode off, or puts the shipped rule set back live. */
  @ValidateIf((_object, value) => value !== null)
  @Matches(IDENTIFIER, { message: 'version must be a rule set version or null' })
  version!: string | null;
}

export class ShadowReportQuery {
  @IsOptional()
  @IsRFC3339()
  since?: string;

  @IsOptional()
  @Matches(IDENTIFIER, { message: 'shadowRuleSetVersion must be a rule set version' })
  shadowRuleSetVersion?: string;
}

export class FraudLabelRequest extends Audited {
  @IsBoolean()
  fraud!: boolean;
}
